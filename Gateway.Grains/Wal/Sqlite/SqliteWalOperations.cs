using Gateway.Partitions;

namespace Gateway.Wal.Sqlite;

/// <summary>
/// A WAL operation defined by a function of the writer's statements; <paramref name="wokenPartitions"/> names the
/// partitions its result gave new work, woken once it is committed.
/// </summary>
internal sealed class WalCall<T>(Func<SqliteWalCommands, long, T> run, Func<T, IEnumerable<PartitionKey>>? wokenPartitions = null) : SqliteWalOperation<T>
{
    public override void AddWokenPartitions(HashSet<PartitionKey> partitions)
    {
        if (wokenPartitions is not null && Result is { } result)
        {
            partitions.UnionWith(wokenPartitions(result));
        }
    }

    protected override T Run(SqliteWalCommands commands, long nowMs) => run(commands, nowMs);
}

/// <summary>
/// Appends a device's batch: its messages, each with its routes. The delivery rows follow in a later commit
/// (<see cref="UnwrittenDeliveries"/>), and so do the messages' device index entries (<see cref="UnindexedMessages"/>).
/// The device's record (<see cref="WalDeviceRecord"/>) is read from its messages until they are deleted
/// (<see cref="SqliteWalCommands"/>), so an append writes no device row either.
/// </summary>
internal sealed class AppendOperation(WalAppend append) : SqliteWalOperation<bool>
{
    private readonly List<(long Seq, IReadOnlyList<PartitionKey> Routes, int Lane)> _stored = new(append.Messages.Count);

    public override void AddWokenPartitions(HashSet<PartitionKey> partitions)
    {
        foreach (var message in append.Messages)
        {
            foreach (var route in message.Routes)
            {
                partitions.Add(route);
            }
        }
    }

    public override void Committed(UnwrittenDeliveries unwritten, UnindexedMessages unindexed, long nowMs)
    {
        unwritten.Add(_stored);
        unindexed.Add(append.Messages.Count, nowMs);
    }

    protected override bool Run(SqliteWalCommands commands, long nowMs)
    {
        // Run again when the writer retries the transaction with savepoints.
        _stored.Clear();
        foreach (var message in append.Messages)
        {
            var seq = commands.InsertMessage(append.DeviceId, message);
            if (message.Routes.Count > 0)
            {
                _stored.Add((seq, message.Routes, message.Lane));
            }
        }

        return true;
    }
}
