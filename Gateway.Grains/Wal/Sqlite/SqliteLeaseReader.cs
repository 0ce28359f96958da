using Gateway.Partitions;
using Gateway.Storage;
using Microsoft.Data.Sqlite;

namespace Gateway.Wal.Sqlite;

/// <summary>
/// Reads a partition's next Enqueued records for a lease (by lane priority, then oldest first) on a connection of its own, with its statement prepared
/// once. A lease writes nothing (see <see cref="LeasedDeliveries"/>), so it needs neither the writer nor a commit: in
/// WAL journal mode this read never waits for the writer, and sees every commit that completed before it began.
/// Callers serialize on <see cref="LeasedDeliveries"/>' lock; the connection is not used concurrently.
/// </summary>
internal sealed class SqliteLeaseReader : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _selectEnqueued;
    private readonly Lock _pendingLanesLock = new();
    private readonly SqliteConnection _pendingLanesConnection;
    private readonly SqliteCommand _selectPendingLanes;

    public SqliteLeaseReader(SqliteDatabase database)
    {
        _connection = database.Open();
        _selectEnqueued = _connection.CreateCommand();
        _selectEnqueued.CommandText = """
            SELECT d.id, d.attempts, m.message_id, m.device_id, m.device_sequence, m.received_at, m.content_type, m.payload, m.trace_parent, m.topic, d.lane
            FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq
            WHERE d.sink = $sink AND d.partition = $partition AND d.state = 0 AND d.lane <= $last_lane
              AND ($holder IS NULL OR coalesce((SELECT holder FROM wal_partition_leaseholder WHERE sink = $sink AND partition = $partition), $holder) = $holder)
            ORDER BY d.lane, d.id
            LIMIT $limit
            """;
        foreach (var name in (string[])["$sink", "$partition", "$limit", "$holder", "$last_lane"])
        {
            _selectEnqueued.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        // Two seeks of the Enqueued index (sink, partition, lane, id) per partition, rather than a scan of the sink's backlog.
        _pendingLanesConnection = database.Open();
        _selectPendingLanes = _pendingLanesConnection.CreateCommand();
        _selectPendingLanes.CommandText = """
            WITH RECURSIVE p(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM p WHERE n + 1 < $partitions)
            SELECT n, highest, lowest FROM (
                SELECT n,
                    (SELECT lane FROM wal_delivery WHERE sink = $sink AND partition = p.n AND state = 0 ORDER BY lane LIMIT 1) AS highest,
                    (SELECT lane FROM wal_delivery WHERE sink = $sink AND partition = p.n AND state = 0 ORDER BY lane DESC LIMIT 1) AS lowest
                FROM p)
            WHERE highest IS NOT NULL
            """;
        _selectPendingLanes.Parameters.Add(new SqliteParameter { ParameterName = "$sink" });
        _selectPendingLanes.Parameters.Add(new SqliteParameter { ParameterName = "$partitions" });
    }

    /// <summary>The highest and lowest lane Enqueued in each of the sink's partitions that has any.</summary>
    public Dictionary<int, PendingLanes> ReadPendingLanes(string sink, int partitionCount)
    {
        lock (_pendingLanesLock)
        {
            _selectPendingLanes.Parameters[0].Value = sink;
            _selectPendingLanes.Parameters[1].Value = partitionCount;
            var lanes = new Dictionary<int, PendingLanes>();
            using var reader = _selectPendingLanes.ExecuteReader();
            while (reader.Read())
            {
                lanes[reader.GetInt32(0)] = new PendingLanes(reader.GetInt32(1), reader.GetInt32(2));
            }

            return lanes;
        }
    }

    /// <param name="leaseholder">Reads nothing unless this is the partition's leaseholder (or it has none); null: no check.</param>
    /// <param name="lastLane">The lowest priority number to read.</param>
    public List<WalRecord> ReadEnqueued(PartitionKey partition, int limit, long? leaseholder, int lastLane, DateTimeOffset leasedAt)
    {
        var p = _selectEnqueued.Parameters;
        p[0].Value = partition.Sink;
        p[1].Value = partition.Partition;
        p[2].Value = limit;
        p[3].Value = (object?)leaseholder ?? DBNull.Value;
        p[4].Value = lastLane;
        var records = new List<WalRecord>();
        using var reader = _selectEnqueued.ExecuteReader();
        while (reader.Read())
        {
            records.Add(WalRecord.FromLeasedRow(reader, leasedAt));
        }

        return records;
    }

    public void Dispose()
    {
        _selectEnqueued.Dispose();
        _connection.Dispose();
        _selectPendingLanes.Dispose();
        _pendingLanesConnection.Dispose();
    }
}
