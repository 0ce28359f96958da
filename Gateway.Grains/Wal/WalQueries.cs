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
