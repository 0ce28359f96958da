namespace Gateway.Devices;

/// <summary>A message as a transport received it, before the device grain validates and enriches it.</summary>
/// <param name="Payload">The body exactly as sent.</param>
/// <param name="ContentType">The declared media type, or null when the transport carries none (MQTT 3.1.1).</param>
/// <param name="DeviceMessageId">The device's own id for the message, used to drop retransmissions.</param>
/// <param name="TraceParent">W3C traceparent to keep with the record: the adapter's ingest span (a child of the
/// device's publish) when tracing is on, else the device's own.</param>
/// <param name="Transport">Which adapter received it (<c>http</c>, <c>mqtt</c>), for bookkeeping and metrics.</param>
/// <param name="Topic">The MQTT topic it was published to; HTTP messages get <c>devices/{deviceId}/telemetry</c>.</param>
[GenerateSerializer, Immutable, Alias("Gateway.IncomingMessage")]
public sealed record IncomingMessage(
    [property: Id(0)] ReadOnlyMemory<byte> Payload,
    [property: Id(1)] string? ContentType,
    [property: Id(2)] string? DeviceMessageId,
    [property: Id(3)] string? TraceParent,
    [property: Id(4)] string Transport,
    [property: Id(5)] string Topic);
