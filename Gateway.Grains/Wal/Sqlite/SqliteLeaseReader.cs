using Gateway.Partitions;
using Gateway.Storage;
using Microsoft.Data.Sqlite;

namespace Gateway.Wal.Sqlite;

/// <summary>
/// Reads a partition's oldest Enqueued records for a lease on a connection of its own, with its statement prepared
/// once. A lease writes nothing (see <see cref="LeasedDeliveries"/>), so it needs neither the writer nor a commit: in
/// WAL journal mode this read never waits for the writer, and sees every commit that completed before it began.
/// Callers serialize on <see cref="LeasedDeliveries"/>' lock; the connection is not used concurrently.
/// </summary>
internal sealed class SqliteLeaseReader : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _selectEnqueued;

    public SqliteLeaseReader(SqliteDatabase database)
    {
        _connection = database.Open();
        _selectEnqueued = _connection.CreateCommand();
        _selectEnqueued.CommandText = """
            SELECT d.id, d.attempts, m.message_id, m.device_id, m.device_sequence, m.received_at, m.content_type, m.payload, m.trace_parent, m.topic
            FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq
            WHERE d.sink = $sink AND d.partition = $partition AND d.state = 0
              AND ($holder IS NULL OR coalesce((SELECT holder FROM wal_partition_leaseholder WHERE sink = $sink AND partition = $partition), $holder) = $holder)
            ORDER BY d.id
            LIMIT $limit
            """;
        foreach (var name in (string[])["$sink", "$partition", "$limit", "$holder"])
        {
            _selectEnqueued.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
    }

    /// <param name="leaseholder">Reads nothing unless this is the partition's leaseholder (or it has none); null: no check.</param>
    public List<WalRecord> ReadEnqueued(PartitionKey partition, int limit, long? leaseholder, DateTimeOffset leasedAt)
    {
        var p = _selectEnqueued.Parameters;
        p[0].Value = partition.Sink;
        p[1].Value = partition.Partition;
        p[2].Value = limit;
        p[3].Value = (object?)leaseholder ?? DBNull.Value;
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
    }
}
