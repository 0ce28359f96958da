using Gateway.Devices;
using Gateway.Partitions;
using Gateway.Storage;
using Microsoft.Data.Sqlite;

namespace Gateway.Wal.Sqlite;

/// <summary>
/// The admin API's reads of the SQLite WAL, on pooled connections of their own (never through the writer): the same
/// answers as <see cref="PostgreSql.PostgreSqlWalQueries"/> gives from the same tables. Leases are held in memory here
/// (<see cref="LeasedDeliveries"/>), so the reads that report states fold them in.
/// </summary>
internal static class SqliteWalQueries
{
    /// <summary>A device's sequence and activity: its row in <c>wal_device</c>, with the messages stored above the row's last sequence folded in.</summary>
    public static WalDeviceRecord GetDevice(SqliteDatabase database, string deviceId)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        // The row covers the messages up to its last sequence; those above it are still stored (SqliteWalCommands.FoldDevice).
        // One statement, so both halves are read from the same snapshot.
        command.CommandText = $"""
            SELECT d.last_sequence, d.first_seen_at, d.last_seen_at, d.accepted_count, m.last_sequence, m.first_seen, m.last_seen, m.accepted
            FROM (SELECT 1) LEFT JOIN wal_device d ON d.device_id = $device_id
            CROSS JOIN (
                SELECT max(dm.device_sequence) AS last_sequence, min(stored.received_at) AS first_seen, max(stored.received_at) AS last_seen, count(*) AS accepted
                FROM {SqliteDeviceMessages.Of("$device_id", "device_sequence > coalesce((SELECT last_sequence FROM wal_device WHERE device_id = $device_id), 0)")} dm
                JOIN wal_message stored ON stored.seq = dm.seq) m
            """;
        command.Parameters.AddWithValue("$device_id", deviceId);
        using var reader = command.ExecuteReader();
        reader.Read();
        var folded = reader.IsDBNull(0)
            ? WalDeviceRecord.None
            : new WalDeviceRecord(reader.GetInt64(0), TimeOrNull(reader, 1), TimeOrNull(reader, 2), reader.GetInt64(3));
        var stored = reader.GetInt64(7);
        return stored == 0
            ? folded
            : new WalDeviceRecord(
                reader.GetInt64(4),
                folded.FirstSeen ?? TimeOrNull(reader, 5),
                Later(folded.LastSeen, TimeOrNull(reader, 6)),
                folded.AcceptedCount + stored);
    }

    /// <summary>One message and each of its deliveries with their history, or null when the WAL holds no such message.</summary>
    public static MessageLifecycle? GetMessageLifecycle(SqliteDatabase database, LeasedDeliveries leased, string messageId)
    {
        // Found through the device's messages the WAL already keeps (SqliteDeviceMessages), so message ids need no index of their own.
        if (!MessageId.TryParse(messageId, out var deviceId, out var sequence))
        {
            return null;
        }

        using var connection = database.Open();
        using var message = connection.CreateCommand();
        message.CommandText = $"""
            SELECT seq, topic, content_type, length(payload), received_at, trace_parent FROM wal_message
            WHERE seq IN (SELECT seq FROM {SqliteDeviceMessages.Of("$device_id", "device_sequence = $sequence")}) AND message_id = $message_id
            """;
        message.Parameters.AddWithValue("$device_id", deviceId);
        message.Parameters.AddWithValue("$sequence", sequence);
        message.Parameters.AddWithValue("$message_id", messageId);
        long seq;
        string topic, contentType;
        int payloadBytes;
        DateTimeOffset receivedAt;
        string? traceParent;
        using (var reader = message.ExecuteReader())
        {
            if (!reader.Read())
            {
                return null;
            }

            (seq, topic, contentType, payloadBytes) = (reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3));
            receivedAt = FromMilliseconds(reader.GetInt64(4));
            traceParent = reader.IsDBNull(5) ? null : reader.GetString(5);
        }

        var events = ReadDeliveryEvents(connection, seq);
        using var deliveries = connection.CreateCommand();
        deliveries.CommandText = $"""
            SELECT id, sink, partition, state, attempts, next_attempt_at, first_error, last_error, updated_at, leased_at
            FROM wal_delivery WHERE {DeliveryIds.BelongsTo("id", "$seq")} ORDER BY id
            """;
        deliveries.Parameters.AddWithValue("$seq", seq);
        var lifecycles = new List<DeliveryLifecycle>();
        using (var reader = deliveries.ExecuteReader())
        {
            while (reader.Read())
            {
                var id = reader.GetInt64(0);
                var (state, attempts, updatedAt) = ((DeliveryState)reader.GetInt32(3), reader.GetInt32(4), FromMilliseconds(reader.GetInt64(8)));
                var history = DeliveryHistory.Complete(events.GetValueOrDefault(id) ?? [], state, attempts, updatedAt,
                    reader.IsDBNull(9) ? null : FromMilliseconds(reader.GetInt64(9)));
                if (state == DeliveryState.Enqueued && leased.LeasedAt(id) is { } leasedAt)
                {
                    // At the sink now: the lease is held in memory, not in the row.
                    state = DeliveryState.InFlight;
                    history = [.. history, new DeliveryEvent(leasedAt, DeliveryState.Enqueued, DeliveryState.InFlight, attempts, null)];
                }

                lifecycles.Add(new DeliveryLifecycle(
                    id, reader.GetString(1), reader.GetInt32(2), state, attempts,
                    reader.IsDBNull(5) ? null : FromMilliseconds(reader.GetInt64(5)),
                    reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                    updatedAt, history));
            }
        }

        return 
            new MessageLifecycle(messageId, deviceId, sequence, topic, contentType, payloadBytes, receivedAt, traceParent, lifecycles);
    }

    /// <summary>Each partition of a sink with deliveries pending or dead: counts by state, oldest pending message, most attempts, next retry.</summary>
    public static IReadOnlyList<PartitionDepth> GetPartitionDepths(SqliteDatabase database, LeasedDeliveries leased, string sink)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        // One branch per state, so each reads its own partial index instead of the whole delivery table.
        command.CommandText = """
            SELECT d.partition, d.state, count(*), min(m.received_at), max(d.attempts), min(d.next_attempt_at)
            FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq WHERE d.sink = $sink AND d.state = 0 GROUP BY d.partition
            UNION ALL
            SELECT d.partition, d.state, count(*), min(m.received_at), max(d.attempts), NULL
            FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq WHERE d.sink = $sink AND d.state = 1 GROUP BY d.partition
            UNION ALL
            SELECT d.partition, d.state, count(*), NULL, 0, NULL
            FROM wal_delivery d WHERE d.sink = $sink AND d.state = 3 GROUP BY d.partition
            """;
        command.Parameters.AddWithValue("$sink", sink);
        var depths = new SortedDictionary<int, PartitionDepth>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var partition = reader.GetInt32(0);
            var count = reader.GetInt64(2);
            DateTimeOffset? oldest = reader.IsDBNull(3) ? null : FromMilliseconds(reader.GetInt64(3));
            DateTimeOffset? next = reader.IsDBNull(5) ? null : FromMilliseconds(reader.GetInt64(5));
            var depth = depths.GetValueOrDefault(partition) ?? new PartitionDepth(partition, 0, 0, 0, null, 0, null);
            depth = (DeliveryState)reader.GetInt32(1) switch
            {
                DeliveryState.Enqueued => depth with { Enqueued = count, NextAttemptAt = next },
                DeliveryState.InFlight => depth with { InFlight = count },
                _ => depth with { Dead = count },
            };
            depths[partition] = depth with
            {
                OldestPendingReceivedAt = Earliest(depth.OldestPendingReceivedAt, oldest),
                MaxAttempts = Math.Max(depth.MaxAttempts, reader.GetInt32(4)),
            };
        }

        // Leases are held in memory (LeasedDeliveries): the rows of records at the sink now still read Enqueued.
        foreach (var partition in depths.Keys.ToList())
        {
            var atSink = leased.CountIn(new PartitionKey(sink, partition));
            if (atSink > 0 && depths[partition] is var depth)
            {
                depths[partition] = depth with { Enqueued = depth.Enqueued - atSink, InFlight = depth.InFlight + atSink };
            }
        }

        return [.. depths.Values];
    }

    /// <summary>A device's deliveries pending (Enqueued or InFlight) and dead.</summary>
    public static DeviceDeliveryCounts GetDeviceDeliveryCounts(SqliteDatabase database, string deviceId)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT coalesce(sum(CASE WHEN d.state IN (0, 1) THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN d.state = 3 THEN 1 ELSE 0 END), 0)
            FROM {SqliteDeviceMessages.Of("$device_id")} m JOIN wal_delivery d ON {DeliveryIds.BelongsTo("d.id", "m.seq")}
            """;
        command.Parameters.AddWithValue("$device_id", deviceId);
        using var reader = command.ExecuteReader();
        reader.Read();
        return new DeviceDeliveryCounts(reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>A page of known devices in id order: those that stored messages and those in the directory.</summary>
    public static IReadOnlyList<DeviceDirectoryEntry> ListDevices(SqliteDatabase database, string? after, DateTimeOffset? seenSince, int limit)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        // Devices that stored messages are in wal_device (up to its last sequence) and in wal_message (above it); the
        // directory adds those an operator provisioned or disabled before they sent anything. The indexed devices are
        // found by skipping through the device index one device at a time, and a device's first and last message by
        // its sequence (received_at grows with it), so the list reads a few pages per device, not every message; the
        // tail not indexed yet (SqliteDeviceMessages) is read as it is.
        command.CommandText = $"""
            WITH RECURSIVE stored(device_id) AS (
                SELECT (SELECT min(device_id) FROM wal_device_message WHERE device_id > $after)
                UNION ALL
                SELECT (SELECT min(device_id) FROM wal_device_message WHERE device_id > stored.device_id) FROM stored WHERE stored.device_id IS NOT NULL)
            SELECT device_id, min(first_seen), max(last_seen) FROM (
                SELECT device_id, first_seen_at AS first_seen, last_seen_at AS last_seen FROM wal_device WHERE device_id > $after
                UNION ALL
                SELECT device_id,
                       (SELECT m.received_at FROM wal_device_message dm JOIN wal_message m ON m.seq = dm.seq
                        WHERE dm.device_id = stored.device_id ORDER BY dm.device_sequence LIMIT 1),
                       (SELECT m.received_at FROM wal_device_message dm JOIN wal_message m ON m.seq = dm.seq
                        WHERE dm.device_id = stored.device_id ORDER BY dm.device_sequence DESC LIMIT 1)
                FROM stored WHERE device_id IS NOT NULL
                UNION ALL
                SELECT device_id, min(received_at), max(received_at) FROM wal_message
                WHERE {SqliteDeviceMessages.Unindexed} AND device_id > $after GROUP BY device_id
                UNION ALL
                SELECT device_id, first_seen, last_seen FROM wal_device_directory WHERE device_id > $after)
            GROUP BY device_id
            HAVING $seen_since IS NULL OR max(last_seen) >= $seen_since
            ORDER BY device_id LIMIT $limit
            """;
        command.Parameters.AddWithValue("$after", after ?? "");
        command.Parameters.AddWithValue("$seen_since", (object?)seenSince?.ToUnixTimeMilliseconds() ?? DBNull.Value);
        command.Parameters.AddWithValue("$limit", limit);
        var devices = new List<DeviceDirectoryEntry>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            devices.Add(new DeviceDirectoryEntry(
                reader.GetString(0),
                reader.IsDBNull(1) ? null : FromMilliseconds(reader.GetInt64(1)),
                reader.IsDBNull(2) ? null : FromMilliseconds(reader.GetInt64(2))));
        }

        return devices;
    }

    /// <summary>The database's bytes (file and journal) and the oldest pending message's arrival.</summary>
    public static WalStorage GetStorage(SqliteDatabase database)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        // The oldest pending message is the one with the lowest WAL order among each state's partial index.
        command.CommandText = """
            SELECT (SELECT page_count FROM pragma_page_count()) * (SELECT page_size FROM pragma_page_size()),
                   (SELECT received_at FROM wal_message WHERE seq = (
                       SELECT min(message_seq) FROM (
                           SELECT min(message_seq) AS message_seq FROM wal_delivery WHERE state = 0
                           UNION ALL
                           SELECT min(message_seq) FROM wal_delivery WHERE state = 1)))
            """;
        using var reader = command.ExecuteReader();
        reader.Read();
        var journal = new FileInfo(database.FilePath + "-wal");
        var bytes = reader.GetInt64(0) + (journal.Exists ? journal.Length : 0);
        return new WalStorage(bytes, reader.IsDBNull(1) ? null : FromMilliseconds(reader.GetInt64(1)));
    }

    /// <summary>Each sink's pending deliveries and its oldest pending message's arrival.</summary>
    public static IReadOnlyList<SinkBacklog> GetSinkBacklogs(SqliteDatabase database)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        // Each state through its own partial index, which covers sink and id; a delivery id holds its message's seq.
        command.CommandText = $"""
            WITH pending AS (
                SELECT sink, count(*) AS records, min(id) AS oldest_id FROM (
                    SELECT sink, id FROM wal_delivery WHERE state = 0
                    UNION ALL
                    SELECT sink, id FROM wal_delivery WHERE state = 1)
                GROUP BY sink)
            SELECT p.sink, p.records, m.received_at
            FROM pending p LEFT JOIN wal_message m ON m.seq = p.oldest_id / {DeliveryIds.PerMessage}
            ORDER BY p.sink
            """;
        var backlogs = new List<SinkBacklog>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            backlogs.Add(new SinkBacklog(reader.GetString(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : FromMilliseconds(reader.GetInt64(2))));
        }

        return backlogs;
    }

    /// <summary>
    /// Each lane of <paramref name="pending"/> (records and bytes as the store counts them) with the arrival of its oldest
    /// pending message: one pass over the Enqueued index, which covers the lane, plus the few rows InFlight from before
    /// leases stopped being written.
    /// </summary>
    public static IReadOnlyList<LaneBacklog> GetLaneBacklogs(SqliteDatabase database, List<(int Lane, long Records, long Bytes)> pending)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            WITH oldest AS (
                SELECT lane, min(id) AS oldest_id FROM (
                    SELECT lane, id FROM wal_delivery WHERE state = 0
                    UNION ALL
                    SELECT lane, id FROM wal_delivery WHERE state = 1)
                GROUP BY lane)
            SELECT o.lane, m.received_at
            FROM oldest o JOIN wal_message m ON m.seq = o.oldest_id / {DeliveryIds.PerMessage}
            """;
        var oldest = new Dictionary<int, DateTimeOffset>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                oldest[reader.GetInt32(0)] = FromMilliseconds(reader.GetInt64(1));
            }
        }

        return pending
            .Select(lane => new LaneBacklog(lane.Lane, lane.Records, lane.Bytes, oldest.TryGetValue(lane.Lane, out var received) ? received : null))
            .ToList();
    }

    private static Dictionary<long, List<DeliveryEvent>> ReadDeliveryEvents(SqliteConnection connection, long messageSeq)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT delivery_id, at, from_state, to_state, attempts, error FROM wal_delivery_event
            WHERE {DeliveryIds.BelongsTo("delivery_id", "$seq")} ORDER BY id
            """;
        command.Parameters.AddWithValue("$seq", messageSeq);
        var events = new Dictionary<long, List<DeliveryEvent>>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var deliveryId = reader.GetInt64(0);
            if (!events.TryGetValue(deliveryId, out var list))
            {
                events[deliveryId] = list = [];
            }

            list.Add(new DeliveryEvent(FromMilliseconds(reader.GetInt64(1)), (DeliveryState)reader.GetInt32(2), (DeliveryState)reader.GetInt32(3),
                reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return events;
    }


    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;


    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a < b ? a : b;


    private static DateTimeOffset? TimeOrNull(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));


    private static DateTimeOffset FromMilliseconds(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
}
