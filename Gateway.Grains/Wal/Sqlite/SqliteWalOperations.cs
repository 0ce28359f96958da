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
/// Appends a device's batch: messages and one delivery per route. The device's record (<see cref="WalDeviceRecord"/>)
/// is read from its messages until they are deleted (<see cref="SqliteWalCommands"/>), so an append writes no device row.
/// </summary>
internal sealed class AppendOperation(WalAppend append) : SqliteWalOperation<bool>
{
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

    protected override bool Run(SqliteWalCommands commands, long nowMs)
    {
        foreach (var message in append.Messages)
        {
            var seq = commands.InsertMessage(append.DeviceId, message);
            for (var route = 0; route < message.Routes.Count; route++)
            {
                commands.InsertDelivery(seq, route, message.Routes[route], nowMs);
            }
        }

        return true;
    }
}
