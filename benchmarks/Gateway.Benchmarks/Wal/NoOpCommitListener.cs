using Gateway.Partitions;
using Gateway.Wal;

namespace Gateway.Benchmarks.Wal;

/// <summary>Ignores commits: the WAL scenarios measure the store alone, with no partition to wake.</summary>
internal sealed class NoOpCommitListener : IWalCommitListener
{
    public void OnPartitionsWoken(IReadOnlyCollection<PartitionKey> partitions)
    {
    }
}
