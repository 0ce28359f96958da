namespace Gateway.Wal;

/// <summary>
/// What the WAL knows of a device, committed with each append: the highest sequence ever given out (never reused,
/// even after compaction), when it was first and last accepted from, and how many messages it has stored.
/// </summary>
public sealed record WalDeviceRecord(long LastSequence, DateTimeOffset? FirstSeen, DateTimeOffset? LastSeen, long AcceptedCount)
{
    /// <summary>A device the WAL has never stored a message for.</summary>
    public static WalDeviceRecord None { get; } = new(0, null, null, 0);
}
