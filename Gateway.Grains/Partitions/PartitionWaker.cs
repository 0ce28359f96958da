using Gateway.Wal;

namespace Gateway.Partitions;

/// <summary>Wakes the partition grains that a WAL commit gave new records: one one-way call per partition per commit.</summary>
public sealed class PartitionWaker(IGrainFactory grains) : IWalCommitListener
{
    private readonly GrainReferences<IPartitionGrain> _partitions = new(grains);

    /// <inheritdoc />
    public void OnPartitionsWoken(IReadOnlyCollection<PartitionKey> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        foreach (var partition in partitions)
        {
            // One-way: the writer thread never waits on a grain.
            _ = _partitions.Get(partition.ToString()).WakeAsync();
        }
    }
}
