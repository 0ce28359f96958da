namespace Gateway.Partitions;

/// <summary>
/// What a <see cref="PartitionSender"/> needs from the grain that runs it: one timer, the reminder, and the sink's
/// other partitions. The sender decides; the host only carries out.
/// </summary>
public interface IPartitionSenderHost
{
    /// <summary>
    /// Calls <see cref="PartitionSender.SendDueAsync"/> after <paramref name="dueTime"/>, replacing any send scheduled
    /// before: the partition has one timer.
    /// </summary>
    void ScheduleSend(TimeSpan dueTime);

    /// <summary>Records were leased: keep the partition's reminder, so a restart or a lost activation never strands them.</summary>
    Task KeepReminderAsync();

    /// <summary>This partition's delivery closed the sink's circuit: the sink's other partitions may send again now.</summary>
    void WakeSiblings();
}
