using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gateway.Ingest.Telemetry;

/// <summary>
/// Ingest's spans and instruments, on the source and meter named <c>Gateway</c> (the same names the grains
/// use, so one registration enables both). Every transport records through this class, tagged with its name.
/// </summary>
public sealed class IngestTelemetry
{
    /// <summary>Name of the source and meter.</summary>
    public const string Name = "Gateway";

    /// <summary>Tag naming the transport (<c>http</c>, <c>mqtt</c>).</summary>
    public const string TransportTag = "gateway.transport";

    /// <summary>The ingest spans.</summary>
    public static readonly ActivitySource Source = new(Name);

    private readonly Counter<long> _messages;
    private readonly Counter<long> _refusals;
    private readonly UpDownCounter<long> _connections;

    /// <summary>Creates the instruments on the <c>Gateway</c> meter of <paramref name="meterFactory"/>.</summary>
    public IngestTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(Name);
        _messages = meter.CreateCounter<long>("gateway.ingest.messages", "{message}",
            "Messages acknowledged to devices: stored, or recognised as a retransmission (gateway.ingest.outcome).");
        _refusals = meter.CreateCounter<long>("gateway.ingest.refusals", "{request}",
            "Requests or publishes refused, by transport and reason (error.type, the problem 'reason' of the HTTP answer).");
        _connections = meter.CreateUpDownCounter<long>("gateway.ingest.connections", "{connection}",
            "Open device connections, by transport (MQTT).");
    }

    /// <summary>
    /// Starts the ingest span of one request or publish. Its parent is the current span (ASP.NET Core's request
    /// span, itself a child of the device's <c>traceparent</c>) or, without one, the device's
    /// <paramref name="deviceTraceParent"/>; a device that sent none starts a new trace here.
    /// </summary>
    public static Activity? StartIngest(string transport, string deviceId, string? deviceTraceParent, string? deviceTraceState)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var parent = Activity.Current?.Context
            ?? (deviceTraceParent is not null && ActivityContext.TryParse(deviceTraceParent, deviceTraceState, isRemote: true, out var context) ? context : default);
        var activity = Source.StartActivity("ingest " + transport, ActivityKind.Consumer, parent);
        activity?.SetTag(TransportTag, transport);
        activity?.SetTag("gateway.device.id", deviceId);
        return activity;
    }

    /// <summary>
    /// The trace context to store with the message: the ingest span's when there is one (so delivery, even
    /// hours later, continues the device's trace through the gateway), else what the device sent when it is a
    /// valid <c>traceparent</c>, else a new trace. Every message gets one, so an operator can follow any message
    /// by its trace id (admin API, sink records) whether or not tracing is on; the new trace is marked not
    /// sampled, because no span of it was recorded.
    /// </summary>
    public static string TraceParentToStore(Activity? ingest, string? deviceTraceParent)
    {
        if (ingest is { IdFormat: ActivityIdFormat.W3C, Id: { } id })
        {
            return id;
        }

        if (deviceTraceParent is not null && ActivityContext.TryParse(deviceTraceParent, null, out _))
        {
            return deviceTraceParent;
        }

        return $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-00";
    }

    /// <summary>Counts messages acknowledged to a device.</summary>
    public void Accepted(string transport, int stored, int duplicates)
    {
        if (stored > 0)
        {
            _messages.Add(stored, new KeyValuePair<string, object?>(TransportTag, transport), new KeyValuePair<string, object?>("gateway.ingest.outcome", "stored"));
        }

        if (duplicates > 0)
        {
            _messages.Add(duplicates, new KeyValuePair<string, object?>(TransportTag, transport), new KeyValuePair<string, object?>("gateway.ingest.outcome", "duplicate"));
        }
    }

    /// <summary>Counts a refused request or publish and marks its span.</summary>
    public void Refused(string transport, string reason, Activity? ingest)
    {
        _refusals.Add(1, new KeyValuePair<string, object?>(TransportTag, transport), new KeyValuePair<string, object?>("error.type", reason));
        ingest?.SetStatus(ActivityStatusCode.Error, reason);
        ingest?.SetTag("error.type", reason);
    }

    /// <summary>A device connection opened (+1) or closed (-1).</summary>
    public void Connections(string transport, int delta) =>
        _connections.Add(delta, new KeyValuePair<string, object?>(TransportTag, transport));
}
