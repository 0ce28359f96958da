using Gateway.Devices;
using Npgsql;
using NpgsqlTypes;

namespace Gateway.Wal.PostgreSql;

/// <summary>
/// The admin API's reads of the PostgreSQL WAL, on pooled connections of their own (never through the writer):
/// the same answers as <see cref="SqliteWalStore"/> gives from the same tables.
/// </summary>
internal static class PostgreSqlWalQueries
{
    private const string Device = "SELECT last_sequence, first_seen_at, last_seen_at, accepted_count FROM wal_device WHERE device_id = $1";

    private const string Message = """
        SELECT seq, topic, content_type, octet_length(payload), received_at, trace_parent FROM wal_message
        WHERE device_id = $1 AND device_sequence = $2 AND message_id = $3
        """;

    private const string Deliveries = """
        SELECT id, sink, partition, state::integer, attempts, next_attempt_at, first_error, last_error, updated_at
        FROM wal_delivery WHERE message_seq = $1 ORDER BY id
        """;

    private const string DeliveryEvents = """
        SELECT delivery_id, at, from_state::integer, to_state::integer, attempts, error FROM wal_delivery_event
        WHERE delivery_id IN (SELECT id FROM wal_delivery WHERE message_seq = $1) ORDER BY id
        """;

    // One branch per state, so each reads its own partial index; the partition's row is folded here. The oldest
    // pending message and the most attempts come from Enqueued and InFlight, the next retry from Enqueued only.
    private const string PartitionDepths = """
        SELECT partition, sum(enqueued)::bigint, sum(in_flight)::bigint, sum(dead)::bigint, min(oldest), max(max_attempts), min(next_attempt_at)
        FROM (
            SELECT d.partition, count(*) AS enqueued, 0 AS in_flight, 0 AS dead, min(m.received_at) AS oldest,
                   max(d.attempts) AS max_attempts, min(d.next_attempt_at) AS next_attempt_at
            FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq WHERE d.sink = $1 AND d.state = 0 GROUP BY d.partition
            UNION ALL
            SELECT d.partition, 0, count(*), 0, min(m.received_at), max(d.attempts), NULL
            FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq WHERE d.sink = $1 AND d.state = 1 GROUP BY d.partition
            UNION ALL
            SELECT d.partition, 0, 0, count(*), NULL, 0, NULL
            FROM wal_delivery d WHERE d.sink = $1 AND d.state = 3 GROUP BY d.partition) AS states
        GROUP BY partition
        ORDER BY partition
        """;

    private const string DeviceDeliveryCounts = """
        SELECT count(*) FILTER (WHERE d.state IN (0, 1)), count(*) FILTER (WHERE d.state = 3)
        FROM wal_message m JOIN wal_delivery d ON d.message_seq = m.seq WHERE m.device_id = $1
        """;

    // Devices that stored messages are in wal_device (activity committed with each append, so exact); the
    // directory adds those an operator provisioned or disabled before they sent anything. Both key on byte order.
    private const string Devices = """
        SELECT device_id, min(first_seen), max(last_seen) FROM (
            SELECT device_id, first_seen_at AS first_seen, last_seen_at AS last_seen FROM wal_device WHERE device_id > $1
            UNION ALL
            SELECT device_id, first_seen, last_seen FROM wal_device_directory WHERE device_id > $1) AS known
        GROUP BY device_id
        HAVING $2::bigint IS NULL OR max(last_seen) >= $2
        ORDER BY device_id LIMIT $3
        """;

    // The cluster's whole database, as the SQLite figure is the whole gateway file: what fills the disk. The
    // oldest pending message is the one with the lowest WAL order among each state's partial index.
    private const string SinkBacklogs = """
        WITH pending AS (
            SELECT sink, count(*) AS records, min(message_seq) AS oldest_seq FROM wal_delivery WHERE state IN (0, 1) GROUP BY sink)
        SELECT p.sink, p.records, m.received_at
        FROM pending p LEFT JOIN wal_message m ON m.seq = p.oldest_seq
        ORDER BY p.sink
        """;

    // Per partition, two seeks of the Enqueued index (sink, partition, lane, id) and the few InFlight rows; least() and
    // greatest() skip nulls.
    private const string PendingLanesByPartition = """
        SELECT n, highest, lowest FROM (
            SELECT p.n,
                least(
                    (SELECT lane FROM wal_delivery WHERE sink = $1 AND partition = p.n AND state = 0 ORDER BY lane LIMIT 1),
                    (SELECT min(lane) FROM wal_delivery WHERE sink = $1 AND partition = p.n AND state = 1))::integer AS highest,
                greatest(
                    (SELECT lane FROM wal_delivery WHERE sink = $1 AND partition = p.n AND state = 0 ORDER BY lane DESC LIMIT 1),
                    (SELECT max(lane) FROM wal_delivery WHERE sink = $1 AND partition = p.n AND state = 1))::integer AS lowest
            FROM generate_series(0, $2 - 1) AS p(n)) lanes
        WHERE highest IS NOT NULL
        """;

    // Counted from the rows: the counter table (wal_counter) keeps cluster-wide totals, not totals by lane.
    private const string LaneBacklogs = """
        WITH pending AS (
            SELECT d.lane, count(*) AS records, coalesce(sum(length(m.payload)), 0)::bigint AS bytes, min(d.message_seq) AS oldest_seq
            FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq
            WHERE d.state IN (0, 1) GROUP BY d.lane)
        SELECT p.lane::integer, p.records, p.bytes, m.received_at
        FROM pending p LEFT JOIN wal_message m ON m.seq = p.oldest_seq
        ORDER BY p.lane
        """;

    private const string Storage = """
        SELECT pg_database_size(current_database()),
               (SELECT received_at FROM wal_message WHERE seq = (
                   SELECT min(message_seq) FROM (
                       SELECT min(message_seq) AS message_seq FROM wal_delivery WHERE state = 0
                       UNION ALL
                       SELECT min(message_seq) FROM wal_delivery WHERE state = 1) AS pending))
        """;

    public static async Task<WalDeviceRecord> GetDeviceAsync(NpgsqlDataSource dataSource, string deviceId)
    {
        await using var command = dataSource.CreateCommand(Device);
        command.Parameters.Add(Text(deviceId));
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        return await reader.ReadAsync().ConfigureAwait(false)
            ? new WalDeviceRecord(reader.GetInt64(0), TimeOrNull(reader, 1), TimeOrNull(reader, 2), reader.GetInt64(3))
            : WalDeviceRecord.None;
    }

    public static async Task<MessageLifecycle?> GetMessageLifecycleAsync(NpgsqlDataSource dataSource, string messageId)
    {
        // Found through the (device, sequence) index the WAL already keeps, so message ids need no index of their own.
        if (!MessageId.TryParse(messageId, out var deviceId, out var sequence))
        {
            return null;
        }

        await using var connection = await dataSource.OpenConnectionAsync().ConfigureAwait(false);
        // One snapshot for the three reads, so a delivery's history never runs ahead of (or behind) its state.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead).ConfigureAwait(false);
        await using var message = new NpgsqlCommand(Message, connection, transaction);
        message.Parameters.Add(Text(deviceId));
        message.Parameters.Add(new NpgsqlParameter<long> { TypedValue = sequence });
        message.Parameters.Add(Text(messageId));
        long seq;
        MessageLifecycle lifecycle;
        await using (var reader = await message.ExecuteReaderAsync().ConfigureAwait(false))
        {
            if (!await reader.ReadAsync().ConfigureAwait(false))
            {
                return null;
            }

            seq = reader.GetInt64(0);
            lifecycle = new MessageLifecycle(
                messageId, deviceId, sequence, reader.GetString(1), reader.GetString(2), reader.GetInt32(3), Time(reader, 4),
                reader.IsDBNull(5) ? null : reader.GetString(5), []);
        }

        var events = await ReadDeliveryEventsAsync(connection, transaction, seq).ConfigureAwait(false);
        await using var deliveries = new NpgsqlCommand(Deliveries, connection, transaction);
        deliveries.Parameters.Add(new NpgsqlParameter<long> { TypedValue = seq });
        var lifecycles = new List<DeliveryLifecycle>();
        await using (var reader = await deliveries.ExecuteReaderAsync().ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                var id = reader.GetInt64(0);
                lifecycles.Add(new DeliveryLifecycle(
                    id, reader.GetString(1), reader.GetInt32(2), (DeliveryState)reader.GetInt32(3), reader.GetInt32(4), TimeOrNull(reader, 5),
                    reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                    Time(reader, 8), events.GetValueOrDefault(id) ?? []));
            }
        }

        return lifecycle with { Deliveries = lifecycles };
    }

    public static async Task<IReadOnlyList<PartitionDepth>> GetPartitionDepthsAsync(NpgsqlDataSource dataSource, string sink)
    {
        await using var command = dataSource.CreateCommand(PartitionDepths);
        command.Parameters.Add(Text(sink));
        var depths = new List<PartitionDepth>();
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            depths.Add(new PartitionDepth(
                reader.GetInt32(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), TimeOrNull(reader, 4), reader.GetInt32(5),
                TimeOrNull(reader, 6)));
        }

        return depths;
    }

    public static async Task<DeviceDeliveryCounts> GetDeviceDeliveryCountsAsync(NpgsqlDataSource dataSource, string deviceId)
    {
        await using var command = dataSource.CreateCommand(DeviceDeliveryCounts);
        command.Parameters.Add(Text(deviceId));
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        await reader.ReadAsync().ConfigureAwait(false);
        return new DeviceDeliveryCounts(reader.GetInt64(0), reader.GetInt64(1));
    }

    public static async Task<IReadOnlyList<DeviceDirectoryEntry>> ListDevicesAsync(
        NpgsqlDataSource dataSource, string? after, DateTimeOffset? seenSince, int limit)
    {
        await using var command = dataSource.CreateCommand(Devices);
        command.Parameters.Add(Text(after ?? ""));
        command.Parameters.Add(new NpgsqlParameter
        {
            NpgsqlDbType = NpgsqlDbType.Bigint,
            Value = seenSince is { } since ? since.ToUnixTimeMilliseconds() : DBNull.Value,
        });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var devices = new List<DeviceDirectoryEntry>();
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            devices.Add(new DeviceDirectoryEntry(reader.GetString(0), TimeOrNull(reader, 1), TimeOrNull(reader, 2)));
        }

        return devices;
    }

    public static async Task<IReadOnlyDictionary<int, PendingLanes>> GetPendingLanesAsync(NpgsqlDataSource dataSource, string sink, int partitionCount)
    {
        await using var command = dataSource.CreateCommand(PendingLanesByPartition);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sink });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partitionCount });
        var lanes = new Dictionary<int, PendingLanes>();
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            lanes[reader.GetInt32(0)] = new PendingLanes(reader.GetInt32(1), reader.GetInt32(2));
        }

        return lanes;
    }

    public static async Task<IReadOnlyList<LaneBacklog>> GetLaneBacklogsAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(LaneBacklogs);
        var backlogs = new List<LaneBacklog>();
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            backlogs.Add(new LaneBacklog(reader.GetInt32(0), reader.GetInt64(1), reader.GetInt64(2), TimeOrNull(reader, 3)));
        }

        return backlogs;
    }

    public static async Task<IReadOnlyList<SinkBacklog>> GetSinkBacklogsAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(SinkBacklogs);
        var backlogs = new List<SinkBacklog>();
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            backlogs.Add(new SinkBacklog(reader.GetString(0), reader.GetInt64(1), TimeOrNull(reader, 2)));
        }

        return backlogs;
    }

    public static async Task<WalStorage> GetStorageAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(Storage);
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        await reader.ReadAsync().ConfigureAwait(false);
        return new WalStorage(reader.GetInt64(0), TimeOrNull(reader, 1));
    }

    private static async Task<Dictionary<long, List<DeliveryEvent>>> ReadDeliveryEventsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long messageSeq)
    {
        await using var command = new NpgsqlCommand(DeliveryEvents, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = messageSeq });
        var events = new Dictionary<long, List<DeliveryEvent>>();
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            var deliveryId = reader.GetInt64(0);
            if (!events.TryGetValue(deliveryId, out var list))
            {
                events[deliveryId] = list = [];
            }

            list.Add(new DeliveryEvent(Time(reader, 1), (DeliveryState)reader.GetInt32(2), (DeliveryState)reader.GetInt32(3),
                reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return events;
    }

    private static NpgsqlParameter<string> Text(string value) => new() { TypedValue = value };

    private static DateTimeOffset Time(NpgsqlDataReader reader, int ordinal) => DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    private static DateTimeOffset? TimeOrNull(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : Time(reader, ordinal);
}
