using Gateway.Ingest.Credentials;
using Gateway.Ingest.Telemetry;
using MQTTnet.Formatter;

namespace Gateway.Ingest.Mqtt;

/// <summary>
/// The live MQTT connections by client id, with who each authenticated as. A client id belongs to one
/// identity while any connection uses it, so a device cannot take over (and so inherit the session of)
/// another device's connection by reusing its client id; publishes are authorized against this record,
/// not against MQTTnet's session items, which a session takeover would carry over.
/// </summary>
public sealed class DeviceConnections(IngestTelemetry telemetry)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _byClientId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perDevice = new(StringComparer.Ordinal);

    /// <summary>Outcome of <see cref="TryAdmit"/>.</summary>
    public enum Admission
    {
        /// <summary>The connection may proceed.</summary>
        Admitted,

        /// <summary>The client id is in use by a connection of another identity.</summary>
        ClientIdInUse,

        /// <summary>The device already holds its maximum number of connections.</summary>
        TooManyConnections,
    }

    /// <summary>Connections currently admitted.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                var total = 0;
                foreach (var entry in _byClientId.Values)
                {
                    total += entry.Connections;
                }

                return total;
            }
        }
    }

    /// <summary>Admits a connection that authenticated as <paramref name="identity"/>; each admission is released once.</summary>
    public Admission TryAdmit(string clientId, DeviceIdentity identity, MqttProtocolVersion protocol, int maxPerDevice)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        ArgumentNullException.ThrowIfNull(identity);
        lock (_lock)
        {
            var takeover = _byClientId.TryGetValue(clientId, out var existing);
            if (takeover && existing!.Device.Identity != identity)
            {
                return Admission.ClientIdInUse;
            }

            // A reconnect with the same client id replaces the old connection, so it does not count against the limit.
            if (!takeover && identity.DeviceId is { } deviceId && _perDevice.GetValueOrDefault(deviceId) >= maxPerDevice)
            {
                return Admission.TooManyConnections;
            }

            _byClientId[clientId] = new Entry(new ConnectedDevice(identity, protocol), (existing?.Connections ?? 0) + 1);
            if (identity.DeviceId is { } id)
            {
                _perDevice[id] = _perDevice.GetValueOrDefault(id) + 1;
            }

            telemetry.Connections(TelemetryPublishHandler.Transport, +1);
            return Admission.Admitted;
        }
    }

    /// <summary>Releases one admission of <paramref name="clientId"/> (its connection closed or was taken over).</summary>
    public void Release(string clientId)
    {
        lock (_lock)
        {
            if (!_byClientId.TryGetValue(clientId, out var entry))
            {
                return;
            }

            telemetry.Connections(TelemetryPublishHandler.Transport, -1);
            if (entry.Connections <= 1)
            {
                _byClientId.Remove(clientId);
            }
            else
            {
                _byClientId[clientId] = entry with { Connections = entry.Connections - 1 };
            }

            if (entry.Device.Identity.DeviceId is { } deviceId && _perDevice.TryGetValue(deviceId, out var count))
            {
                if (count <= 1)
                {
                    _perDevice.Remove(deviceId);
                }
                else
                {
                    _perDevice[deviceId] = count - 1;
                }
            }
        }
    }

    /// <summary>The identity and protocol of the connection using <paramref name="clientId"/>, or null.</summary>
    public ConnectedDevice? Find(string clientId)
    {
        lock (_lock)
        {
            return _byClientId.TryGetValue(clientId, out var entry) ? entry.Device : null;
        }
    }

    private sealed record Entry(ConnectedDevice Device, int Connections);
}

/// <summary>An admitted connection: who it is and which MQTT version it speaks.</summary>
public sealed record ConnectedDevice(DeviceIdentity Identity, MqttProtocolVersion Protocol);
