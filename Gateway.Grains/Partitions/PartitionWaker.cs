using Gateway.Wal;

namespace Gateway.Partitions;

/// <summary>
/// The way partitions are woken from outside their grains: after each WAL commit that gave them records (appends,
/// replays), one one-way call per partition per commit, and at start-up or a fail-over for every partition with pending
/// records (<see cref="PendingPartitionWaker"/>). Besides these, a partition wakes itself from its reminder, a sibling
/// whose circuit closed wakes it, and the sink's control grain resumes it.
/// </summary>
public sealed class PartitionWaker(IGrainFactory grains) : IWalCommitListener
{
    private readonly GrainReferences<IPartitionGrain> _partitions = new(grains);

    /// <summary>Wakes one partition; completes when the call is delivered (it is one-way).</summary>
    public Task WakeAsync(PartitionKey partition) => _partitions.Get(partition.ToString()).WakeAsync();

    /// <inheritdoc />
    public void OnPartitionsWoken(IReadOnlyCollection<PartitionKey> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        foreach (var partition in partitions)
        {
            // The writer thread never waits on a grain.
            _ = WakeAsync(partition);
        }
    }
}
