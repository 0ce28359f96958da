using Gateway.Partitions;

namespace Gateway.Wal.Sqlite;

/// <summary>
/// The deliveries of committed appends whose rows are not written yet. An append's synced commit holds only its
/// messages (each with its routes, <c>wal_message.routes</c>); the delivery rows, two of the four pages a one-message
/// commit dirtied, follow in the next commit that does not sync of its own (an ack, a failure, a compaction, or the
/// commit a lease or an admin read asks for), where the rows of many appends share their pages. Nothing is lost if
/// the process dies first: the rows follow from the durable message rows, and <see cref="SqliteWalCommands.WriteLeftoverDeliveries"/>
/// writes them when the WAL next opens.
/// </summary>
/// <remarks>
/// Rows are always written for all entries at once and in WAL order, so the written rows cover a prefix of the
/// messages: every message above the newest delivery row is one whose rows were never written. Only the writer
/// thread changes the entries; <see cref="Count"/> may be read from any thread.
/// </remarks>
internal sealed class UnwrittenDeliveries
{
    /// <summary>Past this many, the rows go in the next commit, synced or not (a WAL whose sinks are all down or paused).</summary>
    public const int MaxUnwritten = 1024;

    private readonly List<(long Seq, IReadOnlyList<PartitionKey> Routes, int Lane)> _entries = [];
    private int _count;

    /// <summary>Deliveries whose rows are not written yet; readable from any thread.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The routes as <c>wal_message.routes</c> keeps them.</summary>
    public static string Format(IReadOnlyList<PartitionKey> routes) => string.Join(' ', routes);

    /// <summary>Reads routes written by <see cref="Format"/>.</summary>
    public static IReadOnlyList<PartitionKey> Parse(string routes) =>
        routes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(PartitionKey.Parse).ToArray();

    /// <summary>Takes in the messages of an append, once its commit has succeeded (writer thread).</summary>
    public void Add(List<(long Seq, IReadOnlyList<PartitionKey> Routes, int Lane)> messages)
    {
        var deliveries = _count;
        foreach (var message in messages)
        {
            _entries.Add(message);
            deliveries += message.Routes.Count;
        }

        Volatile.Write(ref _count, deliveries);
    }

    /// <summary>
    /// Writes every entry's rows in the writer's current transaction (writer thread); returns how many messages, for
    /// <see cref="Written"/> once that transaction has committed.
    /// </summary>
    public int Write(SqliteWalCommands commands, long nowMs)
    {
        foreach (var (seq, routes, lane) in _entries)
        {
            commands.InsertDeliveries(seq, routes, lane, nowMs);
        }

        return _entries.Count;
    }

    /// <summary>The transaction that wrote the rows of the first <paramref name="messages"/> messages committed (writer thread).</summary>
    public void Written(int messages)
    {
        _entries.RemoveRange(0, messages);
        var deliveries = 0;
        foreach (var entry in _entries)
        {
            deliveries += entry.Routes.Count;
        }

        Volatile.Write(ref _count, deliveries);
    }
}
