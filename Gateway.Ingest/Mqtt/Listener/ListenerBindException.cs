using System.Net;

namespace Gateway.Ingest.Mqtt.Listener;

/// <summary>An MQTT endpoint could not be bound (another process holds the port, or the address is not local).</summary>
public sealed class ListenerBindException(IPEndPoint endpoint, Exception inner)
    : IOException($"The MQTT listener cannot bind {endpoint}: {inner.Message}", inner)
{
    /// <summary>The address and port that could not be bound.</summary>
    public IPEndPoint Endpoint { get; } = endpoint;
}
