using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Gateway.Ingest.Mqtt;

/// <summary>
/// MQTT ingest counters, as <see cref="System.Diagnostics.Metrics"/> instruments (meter <c>Gateway.Ingest.Mqtt</c>)
/// for exporters, and as totals by reason for readiness, the admin API and tests.
/// </summary>
public sealed class MqttIngestMetrics : IDisposable
{
    /// <summary>Name of the meter.</summary>
    public const string MeterName = "Gateway.Ingest.Mqtt";

    private readonly Meter _meter;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _connectionsRefused;
    private readonly ConcurrentDictionary<string, StrongBox> _totals = new(StringComparer.Ordinal);
    private long _openPlaintext;
    private long _openTls;

    public MqttIngestMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _meter = meters.Create(MeterName);
        _accepted = _meter.CreateCounter<long>("gateway.mqtt.messages.accepted", "{message}", "PUBLISH packets stored (QoS 1 acknowledged after commit).");
        _refused = _meter.CreateCounter<long>("gateway.mqtt.messages.refused", "{message}", "PUBLISH packets not stored, by reason.");
        _connectionsRefused = _meter.CreateCounter<long>("gateway.mqtt.connections.refused", "{connection}", "Connections refused, by reason.");
        _meter.CreateObservableUpDownCounter("gateway.mqtt.connections.open", () => (Measurement<long>[])
            [
                new(Interlocked.Read(ref _openPlaintext), new KeyValuePair<string, object?>("listener", "plaintext")),
                new(Interlocked.Read(ref _openTls), new KeyValuePair<string, object?>("listener", "tls")),
            ], "{connection}",
            "TCP connections the MQTT listeners hold, from accept to close (also those that have not sent CONNECT or finished their TLS handshake), by listener.");
    }

    /// <summary>A connection admitted under the cap.</summary>
    public void ConnectionOpened(bool tls) => Interlocked.Increment(ref tls ? ref _openTls : ref _openPlaintext);

    /// <summary>An admitted connection closed.</summary>
    public void ConnectionClosed(bool tls) => Interlocked.Decrement(ref tls ? ref _openTls : ref _openPlaintext);

    /// <summary>A stored message.</summary>
    public void Accepted(int qos)
    {
        _accepted.Add(1, new KeyValuePair<string, object?>("qos", qos));
        Increment(qos == 0 ? "accepted-qos0" : "accepted-qos1");
    }

    /// <summary>A refused message.</summary>
    public void Refused(string reason, int qos)
    {
        _refused.Add(1, new KeyValuePair<string, object?>("reason", reason), new KeyValuePair<string, object?>("qos", qos));
        Increment("refused:" + reason);
    }

    /// <summary>A refused connection.</summary>
    public void ConnectionRefused(string reason)
    {
        _connectionsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));
        Increment("connection-refused:" + reason);
    }

    /// <summary>Messages accepted at QoS 0 or 1 and above.</summary>
    public long AcceptedCount(int qos) => Total(qos == 0 ? "accepted-qos0" : "accepted-qos1");

    /// <summary>Messages refused for <paramref name="reason"/>.</summary>
    public long RefusedCount(string reason) => Total("refused:" + reason);

    /// <summary>Connections refused for <paramref name="reason"/>.</summary>
    public long ConnectionsRefusedCount(string reason) => Total("connection-refused:" + reason);

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    private void Increment(string key) => Interlocked.Increment(ref _totals.GetOrAdd(key, static _ => new StrongBox()).Value);

    private long Total(string key) => _totals.TryGetValue(key, out var box) ? Interlocked.Read(ref box.Value) : 0;

    private sealed class StrongBox
    {
        public long Value;
    }
}
