using Gateway.Partitions;

namespace Gateway.Wal;

/// <summary>What a replay changed: how many deliveries, their payload bytes, and the partitions that now have work.</summary>
public sealed record DeadLetterChange(int Count, long Bytes, IReadOnlyCollection<PartitionKey> Partitions)
{
    /// <summary>The same by lane, where the store keeps counts by lane (SQLite); empty otherwise.</summary>
    public IReadOnlyList<LaneChange> ByLane { get; init; } = [];
}

/// <summary>Deliveries of one lane (its priority) that changed state, and their payload bytes.</summary>
public readonly record struct LaneChange(int Lane, int Count, long Bytes);
