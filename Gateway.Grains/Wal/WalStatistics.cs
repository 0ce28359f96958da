namespace Gateway.Wal;

/// <summary>Counters of the WAL since start, and what it holds undelivered.</summary>
/// <param name="PendingRecords">Deliveries Enqueued or InFlight.</param>
/// <param name="PendingBytes">Payload bytes of those deliveries.</param>
/// <param name="Transactions">Transactions the group-commit writer has committed.</param>
/// <param name="Operations">Operations (appends, leases, acks, ...) those transactions carried.</param>
/// <param name="AppendedMessages">Messages appended.</param>
public sealed record WalStatistics(
    long PendingRecords,
    long PendingBytes,
    long Transactions,
    long Operations,
    long AppendedMessages)
{
    /// <summary>
    /// Of <see cref="Transactions"/>, those that synced to disk before completing (at least one operation had to be
    /// durable); the rest left their sync to the next such commit.
    /// </summary>
    public long SyncedTransactions { get; init; }

    /// <summary>Deliveries waiting to be sent.</summary>
    public long EnqueuedRecords { get; init; }

    /// <summary>Deliveries leased by a partition and not yet settled.</summary>
    public long InFlightRecords { get; init; }

    /// <summary>Deliveries acknowledged and not yet compacted.</summary>
    public long AckedRecords { get; init; }

    /// <summary>Dead deliveries, kept until replayed or purged.</summary>
    public long DeadRecords { get; init; }
}
