namespace Gateway.Wal;

/// <summary>One message's whole story in the WAL: the message and each of its deliveries with their state changes.</summary>
public sealed record MessageLifecycle(
    string MessageId,
    string DeviceId,
    long Sequence,
    string Topic,
    string ContentType,
    int PayloadBytes,
    DateTimeOffset ReceivedAt,
    string? TraceParent,
    IReadOnlyList<DeliveryLifecycle> Deliveries);

/// <summary>One delivery of a message to one sink: where it is now and how it got there.</summary>
public sealed record DeliveryLifecycle(
    long DeliveryId,
    string Sink,
    int Partition,
    DeliveryState State,
    int Attempts,
    DateTimeOffset? NextAttemptAt,
    string? FirstError,
    string? LastError,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<DeliveryEvent> Events);

/// <summary>One change of a delivery's state, with the attempt count after it and the error of a failed attempt.</summary>
public sealed record DeliveryEvent(DateTimeOffset At, DeliveryState From, DeliveryState To, int Attempts, string? Error);

/// <summary>
/// A delivery's whole history from the rows the WAL records and the delivery row itself. The SQLite WAL records no
/// row for a delivery's first lease (its time is the row's <c>leased_at</c>) nor for its ack (its time is the row's
/// <c>updated_at</c>, Acked being final); both are put back here. Rows recorded before that change (a first lease
/// or an ack with a row of its own) are kept as they are and never doubled. The PostgreSQL WAL records every change.
/// </summary>
internal static class DeliveryHistory
{
    public static IReadOnlyList<DeliveryEvent> Complete(
        IReadOnlyList<DeliveryEvent> recorded, DeliveryState state, int attempts, DateTimeOffset updatedAt, DateTimeOffset? firstLeasedAt)
    {
        var events = new List<DeliveryEvent>(recorded.Count + 2);
        if (firstLeasedAt is { } leased)
        {
            events.Add(new DeliveryEvent(leased, DeliveryState.Enqueued, DeliveryState.InFlight, 0, null));
        }

        events.AddRange(recorded);
        if (state == DeliveryState.Acked && !recorded.Any(change => change.To == DeliveryState.Acked))
        {
            events.Add(new DeliveryEvent(updatedAt, DeliveryState.InFlight, DeliveryState.Acked, attempts, null));
        }

        // Stable: changes within the same millisecond keep the order they happened in.
        return [.. events.OrderBy(change => change.At)];
    }
}

/// <summary>What one partition of a sink holds in the WAL.</summary>
/// <param name="Enqueued">Deliveries waiting.</param>
/// <param name="InFlight">Deliveries leased and not yet settled.</param>
/// <param name="Dead">Dead deliveries.</param>
/// <param name="OldestPendingReceivedAt">When the oldest waiting or in-flight message was received.</param>
/// <param name="MaxAttempts">The most failed attempts any waiting or in-flight delivery has had.</param>
/// <param name="NextAttemptAt">The earliest retry time recorded on a waiting delivery.</param>
public sealed record PartitionDepth(
    int Partition,
    long Enqueued,
    long InFlight,
    long Dead,
    DateTimeOffset? OldestPendingReceivedAt,
    int MaxAttempts,
    DateTimeOffset? NextAttemptAt);

/// <summary>What a sink has still to deliver.</summary>
/// <param name="Sink">The sink's name.</param>
/// <param name="Records">Its deliveries Enqueued or InFlight.</param>
/// <param name="OldestPendingReceivedAt">When the oldest of their messages was received.</param>
public sealed record SinkBacklog(string Sink, long Records, DateTimeOffset? OldestPendingReceivedAt);

/// <summary>The highest and the lowest lane (by priority number: lowest and highest) a partition has pending.</summary>
public readonly record struct PendingLanes(int Highest, int Lowest);

/// <summary>What one lane (by its priority) has still to deliver: its deliveries Enqueued or InFlight, their payload bytes, and when the oldest of their messages was received.</summary>
public sealed record LaneBacklog(int Lane, long Records, long Bytes, DateTimeOffset? OldestPendingReceivedAt);

/// <summary>A device's deliveries in the WAL that are not done.</summary>
/// <param name="Buffered">Enqueued or InFlight.</param>
/// <param name="Dead">Dead, waiting for an operator.</param>
public sealed record DeviceDeliveryCounts(long Buffered, long Dead);

/// <summary>A device's row in the device directory.</summary>
public sealed record DeviceDirectoryEntry(string DeviceId, DateTimeOffset? FirstSeen, DateTimeOffset? LastSeen);

/// <summary>The WAL's size on disk and its oldest undelivered message.</summary>
/// <param name="DatabaseBytes">The database file and its journal, in bytes.</param>
/// <param name="OldestPendingReceivedAt">When the oldest Enqueued or InFlight message was received.</param>
public sealed record WalStorage(long DatabaseBytes, DateTimeOffset? OldestPendingReceivedAt);
