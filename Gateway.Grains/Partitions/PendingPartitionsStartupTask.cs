using Gateway.Wal;

namespace Gateway.Partitions;

/// <summary>
/// At silo start, wakes every partition that holds Enqueued or InFlight records, so delivery resumes at
/// once after a restart instead of at the next reminder tick.
/// </summary>
public sealed class PendingPartitionsStartupTask(IWalStore wal, IGrainFactory grains) : IStartupTask
{
    /// <inheritdoc />
    public async Task Execute(CancellationToken cancellationToken)
    {
        foreach (var partition in await wal.GetPendingPartitionsAsync())
        {
            await grains.GetGrain<IPartitionGrain>(partition.ToString()).WakeAsync();
        }
    }
}
