namespace Gateway.Tail;

/// <summary>One accepted message as live-tail viewers see it, published after the WAL commit that stored it.</summary>
/// <param name="MessageId">The stable message id.</param>
/// <param name="DeviceId">The device that sent it.</param>
/// <param name="Sequence">Its per-device sequence.</param>
/// <param name="Topic">The topic it was published to.</param>
/// <param name="ContentType">Its media type.</param>
/// <param name="ReceivedAt">When the gateway accepted it.</param>
/// <param name="Payload">The body as the device sent it.</param>
/// <param name="TraceParent">The W3C traceparent it was stored with, if any.</param>
[GenerateSerializer, Immutable, Alias("Gateway.TailedMessage")]
public sealed record TailedMessage(
    [property: Id(0)] string MessageId,
    [property: Id(1)] string DeviceId,
    [property: Id(2)] long Sequence,
    [property: Id(3)] string Topic,
    [property: Id(4)] string ContentType,
    [property: Id(5)] DateTimeOffset ReceivedAt,
    [property: Id(6)] ReadOnlyMemory<byte> Payload,
    [property: Id(7)] string? TraceParent);

/// <summary>Where accepted messages are published for live tails.</summary>
public static class TailStreams
{
    /// <summary>The Orleans stream provider (memory streams) carrying tails.</summary>
    public const string Provider = "tail";

    /// <summary>
    /// Stream namespace. A device publishes to the stream keyed by its outbound partition number: a bounded set of
    /// streams, one publish per accepted batch, and a viewer of one device or of any topic filter subscribes to the
    /// streams that can hold its messages and filters them.
    /// </summary>
    public const string Namespace = "accepted";
}
