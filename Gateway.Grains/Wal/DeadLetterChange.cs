using Gateway.Partitions;

namespace Gateway.Wal;

/// <summary>What a replay changed: how many deliveries, their payload bytes, and the partitions that now have work.</summary>
public sealed record DeadLetterChange(int Count, long Bytes, IReadOnlyCollection<PartitionKey> Partitions);
