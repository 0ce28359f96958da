using Gateway.Storage;
using Gateway.Wal;
using Gateway.Wal.Sqlite;

namespace Gateway.Benchmarks.Wal;

/// <summary>
/// Fills a new WAL with Enqueued records in one SQL transaction, which takes seconds where a million appends
/// would take minutes. The records look like appended ones: 1,000 devices, each routed to its partition.
/// </summary>
internal static class WalBacklogFiller
{
    private const int BacklogDevices = 1_000;

    // seq numbers rows from 1 in insertion order in a new WAL, so device (seq - 1) % devices owns message seq.
    // Device ids and topics are built as SampleTelemetry.DeviceId and TelemetryTopic.Of build them.
    private const string FillSql = """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $records)
        INSERT INTO wal_message (message_id, device_id, device_sequence, device_message_id, received_at, content_type, payload, trace_parent, topic)
        SELECT 'gateway:' || device || ':' || sequence, device, sequence, device || '-' || sequence, $now, $content_type, $payload, NULL,
            'devices/' || device || '/telemetry'
        FROM (SELECT printf('device-%04d', i % $devices) AS device, i / $devices + 1 AS sequence FROM n);

        INSERT INTO wal_delivery (message_seq, sink, partition, state, attempts, updated_at)
        SELECT seq, $sink, (seq - 1) % $devices % $partitions, 0, 0, $now FROM wal_message;

        INSERT INTO wal_device (device_id, last_sequence)
        SELECT device_id, max(device_sequence) FROM wal_message GROUP BY device_id;
        """;

    /// <summary>Creates the WAL schema in <paramref name="database"/> and adds <paramref name="records"/> Enqueued records.</summary>
    public static void Fill(SqliteDatabase database, int records)
    {
        SqliteSchemaMigrator.Apply(database, typeof(SqliteWalStore).Assembly, "wal");
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = FillSql;
        command.Parameters.AddWithValue("$records", records);
        command.Parameters.AddWithValue("$devices", BacklogDevices);
        command.Parameters.AddWithValue("$partitions", SampleTelemetry.PartitionCount);
        command.Parameters.AddWithValue("$sink", SampleTelemetry.SinkName);
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$content_type", MediaTypes.Json);
        command.Parameters.AddWithValue("$payload", SampleTelemetry.Json(SampleTelemetry.DeviceId(0), 1));
        command.ExecuteNonQuery();
        transaction.Commit();
    }
}
