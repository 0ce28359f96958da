namespace Gateway.DeadLetters;

/// <summary>Dead letters across all sinks: list them, send them again, or delete them.</summary>
[Alias("Gateway.IDeadLettersGrain")]
public interface IDeadLettersGrain : IGrainWithIntegerKey
{
    /// <summary>Dead letters matching <paramref name="filter"/>, oldest first, after the delivery id <paramref name="after"/>.</summary>
    [Alias("ListAsync")]
    Task<IReadOnlyList<DeadLetter>> ListAsync(DeadLetterFilter filter, long after, int limit);

    /// <summary>Returns the matching dead letters to their partitions' queues; returns how many.</summary>
    [Alias("ReplayAsync")]
    Task<int> ReplayAsync(DeadLetterFilter filter);

    /// <summary>Deletes the matching dead letters; returns how many.</summary>
    [Alias("PurgeAsync")]
    Task<int> PurgeAsync(DeadLetterFilter filter);
}

/// <summary>Which dead letters an operation takes; every field left null takes all.</summary>
/// <param name="Sink">Only this sink's deliveries.</param>
/// <param name="DeviceId">Only this device's messages.</param>
/// <param name="ReceivedFrom">Only messages received at or after this time.</param>
/// <param name="ReceivedBefore">Only messages received before this time.</param>
/// <param name="MessageIds">Only these messages.</param>
[GenerateSerializer, Immutable, Alias("Gateway.DeadLetterFilter")]
public sealed record DeadLetterFilter(
    [property: Id(0)] string? Sink = null,
    [property: Id(1)] string? DeviceId = null,
    [property: Id(2)] DateTimeOffset? ReceivedFrom = null,
    [property: Id(3)] DateTimeOffset? ReceivedBefore = null,
    [property: Id(4)] IReadOnlyList<string>? MessageIds = null);

/// <summary>One dead delivery: the message, the sink that would not take it, and why.</summary>
[GenerateSerializer, Immutable, Alias("Gateway.DeadLetter")]
public sealed record DeadLetter(
    [property: Id(0)] long DeliveryId,
    [property: Id(1)] string MessageId,
    [property: Id(2)] string DeviceId,
    [property: Id(3)] long Sequence,
    [property: Id(4)] string Sink,
    [property: Id(5)] int Attempts,
    [property: Id(6)] string? FirstError,
    [property: Id(7)] string? LastError,
    [property: Id(8)] DateTimeOffset ReceivedAt,
    [property: Id(9)] DateTimeOffset DeadAt);
