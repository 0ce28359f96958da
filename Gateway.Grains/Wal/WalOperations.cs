using Gateway.Partitions;

namespace Gateway.Wal;

/// <summary>A WAL operation defined by a function of the writer's statements.</summary>
internal sealed class WalCall<T>(Func<WalCommands, long, T> run) : WalOperation<T>
{
    protected override T Run(WalCommands commands, long nowMs) => run(commands, nowMs);
}

/// <summary>Appends a device's batch: messages, one delivery per route, and the device's record (<see cref="WalDeviceRecord"/>).</summary>
internal sealed class AppendOperation(WalAppend append) : WalOperation<bool>
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

    protected override bool Run(WalCommands commands, long nowMs)
    {
        foreach (var message in append.Messages)
        {
            var seq = commands.InsertMessage(append.DeviceId, message);
            for (var route = 0; route < message.Routes.Count; route++)
            {
                commands.InsertDelivery(seq, route, message.Routes[route], nowMs);
            }
        }

        var last = append.Messages[^1];
        commands.UpsertDevice(append.DeviceId, last.Sequence, last.ReceivedAt.ToUnixTimeMilliseconds(), append.Messages.Count);
        return true;
    }
}
