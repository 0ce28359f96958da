using Gateway.Partitions;

namespace Gateway.Wal;

/// <summary>Told, once per commit, which partitions received new records, so they can start sending.</summary>
public interface IWalCommitListener
{
    /// <summary>Called on the writer thread: must return quickly and not block.</summary>
    void OnPartitionsWoken(IReadOnlyCollection<PartitionKey> partitions);
}
