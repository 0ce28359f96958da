namespace Gateway.Partitions;

/// <summary>
/// At silo start, wakes every partition that holds Enqueued or InFlight records, so delivery resumes at
/// once after a restart instead of at the next reminder tick.
/// </summary>
public sealed class PendingPartitionsStartupTask(PendingPartitionWaker waker) : IStartupTask
{
    /// <inheritdoc />
    public Task Execute(CancellationToken cancellationToken) => waker.WakeAllAsync(cancellationToken);
}
