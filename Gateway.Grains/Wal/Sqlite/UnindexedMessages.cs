namespace Gateway.Wal.Sqlite;

/// <summary>
/// How many committed messages the device index (<c>wal_device_message</c>) does not hold yet, and since when. An
/// append's synced commit writes no index page; the tail is indexed in one batch by a commit that does not sync of its
/// own once it is <see cref="MaxAge"/> old or holds <see cref="MaxMessages"/>, and by the next commit of any kind once it
/// holds <see cref="ForcedMessages"/> (when nothing but appends commits: every sink down or paused). A batch of four
/// thousand entries is a megabyte of journal at a thousand devices, which no PUBACK should wait for.
/// At one message a second per device, a batch of seconds writes each device's leaf once instead of once a message.
/// Reads never wait for it (<see cref="SqliteDeviceMessages"/>), and after a crash the tail is simply longer: the WAL
/// indexes it when it opens. Only the writer thread uses this.
/// </summary>
internal sealed class UnindexedMessages
{
    /// <summary>Past this many, the tail is indexed by the next commit that does not sync.</summary>
    public const int MaxMessages = 4096;

    /// <summary>Past this many, by the next commit of any kind; it bounds what a read by device scans.</summary>
    public const int ForcedMessages = 4 * MaxMessages;

    /// <summary>How long the tail may wait for a commit that does not sync.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(10);

    private int _count;
    private long _oldestCommittedAtMs;

    /// <summary>Messages committed and not indexed yet.</summary>
    public int Count => _count;

    /// <summary>Takes in an append of <paramref name="messages"/> messages, once its commit has succeeded.</summary>
    public void Add(int messages, long nowMs)
    {
        if (_count == 0)
        {
            _oldestCommittedAtMs = nowMs;
        }

        _count += messages;
    }

    /// <summary>Whether a commit at <paramref name="nowMs"/> that <paramref name="syncs"/> (or not) indexes the tail.</summary>
    public bool Due(long nowMs, bool syncs) =>
        _count >= ForcedMessages
        || (!syncs && (_count >= MaxMessages || (_count > 0 && nowMs - _oldestCommittedAtMs >= (long)MaxAge.TotalMilliseconds)));

    /// <summary>The commit that indexed the tail has succeeded.</summary>
    public void Indexed() => _count = 0;
}
