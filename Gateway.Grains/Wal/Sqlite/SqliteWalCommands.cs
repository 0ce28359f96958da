using Gateway.DeadLetters;
using Gateway.Partitions;
using Microsoft.Data.Sqlite;

namespace Gateway.Wal.Sqlite;

/// <summary>
/// The writer's statements, each prepared once on the writer's connection and rebound per use, so the hot
/// path parses no SQL. Only the writer thread touches them.
/// </summary>
internal sealed class SqliteWalCommands : IDisposable
{
    private readonly List<SqliteCommand> _all = [];
    private readonly SqliteConnection _connection;
    private SqliteTransaction? _transaction;
    private readonly SqliteCommand _insertMessage;
    private readonly SqliteCommand _insertDelivery;
    private readonly SqliteCommand _selectLeftoverDeliveries;
    private readonly SqliteCommand _deviceLastSequence;
    private readonly SqliteCommand _deviceActivity;
    private readonly SqliteCommand _foldDevice;
    private readonly SqliteCommand _markAcked;
    private readonly SqliteCommand _markFailed;
    private readonly SqliteCommand _returnWrittenInFlight;
    private readonly SqliteCommand _claim;
    private readonly SqliteCommand _deleteAcked;
    private readonly SqliteCommand _deleteOrphanMessage;
    private readonly SqliteCommand _indexTail;
    private readonly SqliteCommand _unindex;
    private readonly SqliteCommand _lowerIndexMark;
    private readonly SqliteCommand _writeProbe;

    public SqliteWalCommands(SqliteConnection connection)
    {
        _connection = connection;
        _insertMessage = Create(connection, """
            INSERT INTO wal_message (message_id, device_id, device_sequence, device_message_id, received_at, content_type, payload, trace_parent, topic, routes, lane)
            VALUES ($message_id, $device_id, $device_sequence, $device_message_id, $received_at, $content_type, $payload, $trace_parent, $topic, $routes, $lane)
            """, "$message_id", "$device_id", "$device_sequence", "$device_message_id", "$received_at", "$content_type", "$payload", "$trace_parent", "$topic", "$routes", "$lane");
        // Rows follow from their message (UnwrittenDeliveries): writing one that exists already changes nothing.
        _insertDelivery = Create(connection, """
            INSERT INTO wal_delivery (id, message_seq, sink, partition, state, attempts, updated_at, lane)
            VALUES ($id, $message_seq, $sink, $partition, 0, 0, $now, $lane)
            ON CONFLICT (id) DO NOTHING
            """, "$id", "$message_seq", "$sink", "$partition", "$now", "$lane");
        _selectLeftoverDeliveries = Create(connection, $"""
            SELECT seq, routes, lane FROM wal_message
            WHERE seq > coalesce((SELECT max(id) FROM wal_delivery), -1) / {DeliveryIds.PerMessage} AND routes <> ''
            ORDER BY seq
            """);
        // A device's row covers its messages up to last_sequence; the messages above it are still in wal_message
        // (see FoldDevice), so an append writes no device row.
        _deviceLastSequence = Create(connection, "SELECT last_sequence FROM wal_device WHERE device_id = $device_id", "$device_id");
        _deviceActivity = Create(connection, $"""
            SELECT count(*), min(m.received_at), max(m.received_at)
            FROM {SqliteDeviceMessages.Of("$device_id", "device_sequence > $after AND device_sequence <= $through")} dm
            JOIN wal_message m ON m.seq = dm.seq
            """, "$device_id", "$after", "$through");
        _foldDevice = Create(connection, """
            INSERT INTO wal_device (device_id, last_sequence, first_seen_at, last_seen_at, accepted_count)
            VALUES ($device_id, $last_sequence, $first_seen, $last_seen, $accepted)
            ON CONFLICT (device_id) DO UPDATE SET
                last_sequence = max(last_sequence, excluded.last_sequence),
                first_seen_at = coalesce(first_seen_at, excluded.first_seen_at),
                last_seen_at = max(coalesce(last_seen_at, 0), excluded.last_seen_at),
                accepted_count = accepted_count + excluded.accepted_count
            """, "$device_id", "$last_sequence", "$first_seen", "$last_seen", "$accepted");
        // One statement per acked batch (the ids as a JSON array), not one per record: a drain acks 1,000 at a time.
        // A lease is not written (LeasedDeliveries): the ack records when the attempt started. State 1 is a row an
        // earlier version left InFlight.
        _markAcked = Create(connection, """
            UPDATE wal_delivery SET state = 2, updated_at = $now, leased_at = coalesce(leased_at, $leased_at), attempt_started_at = $leased_at
            WHERE id IN (SELECT value FROM json_each($ids)) AND state IN (0, 1)
            RETURNING id
            """, "$ids", "$now", "$leased_at");
        _markFailed = Create(connection, """
            UPDATE wal_delivery SET
                attempts = attempts + 1,
                state = CASE WHEN $permanent OR attempts + 1 >= $max_attempts OR $received_at < $dead_before THEN 3 ELSE 0 END,
                next_attempt_at = $next_attempt_at,
                first_error = coalesce(first_error, $error),
                last_error = $error,
                updated_at = $now,
                leased_at = coalesce(leased_at, $leased_at),
                attempt_started_at = $leased_at
            WHERE id = $id AND state IN (0, 1)
            RETURNING state
            """, "$id", "$permanent", "$max_attempts", "$received_at", "$dead_before", "$next_attempt_at", "$error", "$now", "$leased_at");
        _returnWrittenInFlight = Create(connection, """
            UPDATE wal_delivery SET state = 0, updated_at = $now WHERE sink = $sink AND partition = $partition AND state = 1
            """, "$sink", "$partition", "$now");
        _claim = Create(connection, """
            INSERT INTO wal_partition_leaseholder (sink, partition, holder) VALUES ($sink, $partition, $holder)
            ON CONFLICT (sink, partition) DO UPDATE SET holder = excluded.holder
            """, "$sink", "$partition", "$holder");
        _deleteAcked = Create(connection, """
            DELETE FROM wal_delivery
            WHERE id IN (SELECT id FROM wal_delivery WHERE state = 2 AND updated_at < $cutoff LIMIT $limit)
            RETURNING message_seq
            """, "$cutoff", "$limit");
        _deleteOrphanMessage = Create(connection, $"""
            DELETE FROM wal_message WHERE seq = $seq AND NOT EXISTS (SELECT 1 FROM wal_delivery WHERE {DeliveryIds.BelongsTo("id", "$seq")})
            RETURNING device_id, device_sequence, received_at
            """, "$seq");
        _indexTail = Create(connection, SqliteDeviceMessages.IndexTail);
        _unindex = Create(connection, SqliteDeviceMessages.Unindex, "$device_id", "$sequence");
        _lowerIndexMark = Create(connection, SqliteDeviceMessages.LowerMark);
        _writeProbe = Create(connection, """
            INSERT INTO wal_probe (id, written_at) VALUES (1, $now)
            ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at
            """, "$now");
    }

    /// <summary>Binds every statement to the writer's current transaction.</summary>
    public void Enlist(SqliteTransaction transaction)
    {
        _transaction = transaction;
        foreach (var command in _all)
        {
            command.Transaction = transaction;
        }
    }

    public long InsertMessage(string deviceId, WalMessage message)
    {
        var p = _insertMessage.Parameters;
        p[0].Value = message.MessageId;
        p[1].Value = deviceId;
        p[2].Value = message.Sequence;
        p[3].Value = (object?)message.DeviceMessageId ?? DBNull.Value;
        p[4].Value = message.ReceivedAt.ToUnixTimeMilliseconds();
        p[5].Value = message.ContentType;
        p[6].Value = message.PayloadArray();
        p[7].Value = (object?)message.TraceParent ?? DBNull.Value;
        p[8].Value = message.Topic;
        p[9].Value = UnwrittenDeliveries.Format(message.Routes);
        p[10].Value = message.Lane;
        _insertMessage.ExecuteNonQuery();

        // The rowid is the WAL order; reading it from the connection costs no result set (RETURNING would).
        return SQLitePCL.raw.sqlite3_last_insert_rowid(_connection.Handle);
    }

    /// <param name="routeNumber">Which of the message's routes this is, from 0 (see <see cref="DeliveryIds"/>).</param>
    private void InsertDelivery(long messageSeq, int routeNumber, PartitionKey route, int lane, long nowMs)
    {
        var p = _insertDelivery.Parameters;
        p[0].Value = DeliveryIds.Of(messageSeq, routeNumber);
        p[1].Value = messageSeq;
        p[2].Value = route.Sink;
        p[3].Value = route.Partition;
        p[4].Value = nowMs;
        p[5].Value = lane;
        _insertDelivery.ExecuteNonQuery();
    }

    /// <summary>Writes the delivery rows of the message <paramref name="messageSeq"/> in <paramref name="lane"/>, one per route; returns how many.</summary>
    public int InsertDeliveries(long messageSeq, IReadOnlyList<PartitionKey> routes, int lane, long nowMs)
    {
        for (var route = 0; route < routes.Count; route++)
        {
            InsertDelivery(messageSeq, route, routes[route], lane, nowMs);
        }

        return routes.Count;
    }

    /// <summary>
    /// Writes the delivery rows of the messages an earlier process stored and did not write rows for (it died before the
    /// commit that would have, see <see cref="UnwrittenDeliveries"/>); returns how many rows.
    /// </summary>
    public int WriteLeftoverDeliveries(long nowMs)
    {
        var leftovers = new List<(long Seq, string Routes, int Lane)>();
        using (var reader = _selectLeftoverDeliveries.ExecuteReader())
        {
            while (reader.Read())
            {
                leftovers.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2)));
            }
        }

        var written = 0;
        foreach (var (seq, routes, lane) in leftovers)
        {
            written += InsertDeliveries(seq, UnwrittenDeliveries.Parse(routes), lane, nowMs);
        }

        return written;
    }

    /// <summary>Writes the device index entries of the messages above its mark (<see cref="UnindexedMessages"/>).</summary>
    public void IndexDeviceMessages() => _indexTail.ExecuteNonQuery();

    /// <returns>Those of the records that were pending and are now Acked.</returns>
    public List<WalRecord> MarkAcked(IReadOnlyList<WalRecord> records, long nowMs)
    {
        var acked = new List<WalRecord>(records.Count);
        // One statement per lease the records came from (a partition acks one lease at a time: one statement).
        foreach (var lease in records.GroupBy(record => record.LeasedAt))
        {
            var byId = lease.ToDictionary(record => record.DeliveryId);
            _markAcked.Parameters[0].Value = System.Text.Json.JsonSerializer.Serialize(byId.Keys);
            _markAcked.Parameters[1].Value = nowMs;
            _markAcked.Parameters[2].Value = lease.Key.ToUnixTimeMilliseconds();
            using var changed = _markAcked.ExecuteReader();
            while (changed.Read())
            {
                acked.Add(byId[changed.GetInt64(0)]);
            }
        }

        return acked;
    }

    /// <returns>
    /// Of the records that were pending: how many went back to Enqueued, and those that became Dead. A record settled
    /// meanwhile (acked, dead, purged) is left as it is.
    /// </returns>
    public (int Requeued, List<WalRecord> Dead) MarkFailed(IReadOnlyList<WalRecord> records, DeliveryFailure failure, long nowMs)
    {
        var p = _markFailed.Parameters;
        p[1].Value = failure.Permanent;
        p[2].Value = failure.MaxAttempts;
        p[4].Value = failure.DeadIfReceivedBefore.ToUnixTimeMilliseconds();
        p[5].Value = failure.NextAttemptAt.ToUnixTimeMilliseconds();
        p[6].Value = failure.Error;
        p[7].Value = nowMs;
        var requeued = 0;
        var dead = new List<WalRecord>();
        foreach (var record in records)
        {
            p[0].Value = record.DeliveryId;
            p[3].Value = record.ReceivedAt.ToUnixTimeMilliseconds();
            p[8].Value = record.LeasedAt.ToUnixTimeMilliseconds();
            switch (_markFailed.ExecuteScalar())
            {
                case long state when state == (long)DeliveryState.Dead:
                    dead.Add(record);
                    break;
                case long:
                    requeued++;
                    break;
            }
        }

        return (requeued, dead);
    }

    /// <summary>
    /// Makes <paramref name="leaseholder"/> the partition's only leaseholder, and returns to the queue the partition's
    /// InFlight rows: leases are not written any more (<see cref="LeasedDeliveries"/>), so these can only be rows an
    /// earlier version of the gateway wrote. Returns how many.
    /// </summary>
    public int Claim(PartitionKey partition, long leaseholder, long nowMs)
    {
        var p = _claim.Parameters;
        p[0].Value = partition.Sink;
        p[1].Value = partition.Partition;
        p[2].Value = leaseholder;
        _claim.ExecuteNonQuery();
        var r = _returnWrittenInFlight.Parameters;
        r[0].Value = partition.Sink;
        r[1].Value = partition.Partition;
        r[2].Value = nowMs;
        return _returnWrittenInFlight.ExecuteNonQuery();
    }

    public int DeleteAcked(long cutoffMs, int limit)
    {
        _deleteAcked.Parameters[0].Value = cutoffMs;
        _deleteAcked.Parameters[1].Value = limit;
        return DeleteDeliveries(_deleteAcked);
    }

    /// <summary>
    /// Runs <paramref name="deleteReturningMessageSeq"/> (a delete of deliveries returning their message_seq), then
    /// deletes the messages no delivery needs any more; returns how many deliveries went.
    /// </summary>
    private int DeleteDeliveries(SqliteCommand deleteReturningMessageSeq)
    {
        var messageSeqs = new List<long>();
        using (var reader = deleteReturningMessageSeq.ExecuteReader())
        {
            while (reader.Read())
            {
                messageSeqs.Add(reader.GetInt64(0));
            }
        }

        DeleteOrphanMessages(messageSeqs);
        return messageSeqs.Count;
    }

    private void DeleteOrphanMessages(List<long> messageSeqs)
    {
        var deleted = new Dictionary<string, List<(long Sequence, long ReceivedAt)>>(StringComparer.Ordinal);
        foreach (var seq in messageSeqs)
        {
            _deleteOrphanMessage.Parameters[0].Value = seq;
            using var reader = _deleteOrphanMessage.ExecuteReader();
            if (reader.Read())
            {
                var deviceId = reader.GetString(0);
                if (!deleted.TryGetValue(deviceId, out var messages))
                {
                    deleted[deviceId] = messages = [];
                }

                messages.Add((reader.GetInt64(1), reader.GetInt64(2)));
            }
        }

        if (deleted.Count == 0)
        {
            return;
        }

        foreach (var (deviceId, messages) in deleted)
        {
            // The entries go first: the fold counts the device's messages still stored.
            foreach (var (sequence, _) in messages)
            {
                _unindex.Parameters[0].Value = deviceId;
                _unindex.Parameters[1].Value = sequence;
                _unindex.ExecuteNonQuery();
            }

            FoldDevice(deviceId, messages);
        }

        _lowerIndexMark.ExecuteNonQuery();
    }

    /// <summary>
    /// Keeps a device's row covering every message it has stored, as messages leave: when deleted messages reach above
    /// the row's last sequence, the row takes in the device's messages up to the highest deleted one (those deleted in
    /// this transaction and those still there), so its sequence is never handed out again and its count and times
    /// stay exact. Messages above the row are always still in wal_message, where reads find them.
    /// </summary>
    private void FoldDevice(string deviceId, List<(long Sequence, long ReceivedAt)> deleted)
    {
        _deviceLastSequence.Parameters[0].Value = deviceId;
        var covered = _deviceLastSequence.ExecuteScalar() is long last ? last : 0;
        var through = deleted.Max(message => message.Sequence);
        if (through <= covered)
        {
            return;
        }

        var a = _deviceActivity.Parameters;
        a[0].Value = deviceId;
        a[1].Value = covered;
        a[2].Value = through;
        long count;
        long? firstSeen, lastSeen;
        using (var remaining = _deviceActivity.ExecuteReader())
        {
            remaining.Read();
            count = remaining.GetInt64(0);
            firstSeen = remaining.IsDBNull(1) ? null : remaining.GetInt64(1);
            lastSeen = remaining.IsDBNull(2) ? null : remaining.GetInt64(2);
        }

        foreach (var (sequence, receivedAt) in deleted)
        {
            if (sequence > covered)
            {
                count++;
                firstSeen = firstSeen is { } first ? Math.Min(first, receivedAt) : receivedAt;
                lastSeen = lastSeen is { } seen ? Math.Max(seen, receivedAt) : receivedAt;
            }
        }

        var f = _foldDevice.Parameters;
        f[0].Value = deviceId;
        f[1].Value = through;
        f[2].Value = firstSeen!.Value;
        f[3].Value = lastSeen!.Value;
        f[4].Value = count;
        _foldDevice.ExecuteNonQuery();
    }

    // Rare operations (operator actions) are not worth a prepared statement.
    private SqliteCommand AdHoc()
    {
        var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        return command;
    }

    /// <summary>
    /// Returns the matching dead letters to Enqueued with a fresh attempt count; their lane's time to live counts again
    /// from now.
    /// </summary>
    public DeadLetterChange ReplayDead(DeadLetterFilter filter, long nowMs)
    {
        using var replay = AdHoc();
        replay.CommandText = $"UPDATE wal_delivery SET state = 0, attempts = 0, next_attempt_at = NULL, updated_at = $now, replayed_at = $now WHERE id IN ({SqliteDeadLetterQuery.MatchingIds(replay, filter)}) RETURNING sink, partition, message_seq, lane";
        replay.Parameters.AddWithValue("$now", nowMs);
        var partitions = new HashSet<PartitionKey>();
        var replayed = new List<(long MessageSeq, int Lane)>();
        using (var reader = replay.ExecuteReader())
        {
            while (reader.Read())
            {
                partitions.Add(new PartitionKey(reader.GetString(0), reader.GetInt32(1)));
                replayed.Add((reader.GetInt64(2), reader.GetInt32(3)));
            }
        }

        var payloadBytes = PayloadBytes(replayed.Select(delivery => delivery.MessageSeq));
        var byLane = replayed
            .GroupBy(delivery => delivery.Lane)
            .Select(lane => new LaneChange(lane.Key, lane.Count(), lane.Sum(delivery => payloadBytes[delivery.MessageSeq])))
            .ToList();
        return new DeadLetterChange(replayed.Count, byLane.Sum(lane => lane.Bytes), partitions) { ByLane = byLane };
    }

    /// <summary>
    /// Up to <paramref name="limit"/> Enqueued deliveries of <paramref name="lane"/> that have waited since before
    /// <paramref name="cutoffMs"/>: received then, or last replayed then.
    /// </summary>
    public List<long> SelectExpired(int lane, long cutoffMs, int limit)
    {
        using var select = AdHoc();
        select.CommandText = """
            SELECT d.id FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq
            WHERE d.state = 0 AND d.lane = $lane AND coalesce(d.replayed_at, m.received_at) < $cutoff
            LIMIT $limit
            """;
        select.Parameters.AddWithValue("$lane", lane);
        select.Parameters.AddWithValue("$cutoff", cutoffMs);
        select.Parameters.AddWithValue("$limit", limit);
        var ids = new List<long>();
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    /// <summary>Makes the Enqueued deliveries <paramref name="deliveryIds"/> of <paramref name="lane"/> Dead with reason <see cref="DeliveryFailure.Expired"/>.</summary>
    public LaneChange MarkExpired(int lane, IReadOnlyCollection<long> deliveryIds, long nowMs)
    {
        using var expire = AdHoc();
        expire.CommandText = """
            UPDATE wal_delivery SET state = 3, first_error = coalesce(first_error, $reason), last_error = $reason, updated_at = $now
            WHERE id IN (SELECT value FROM json_each($ids)) AND state = 0
            RETURNING message_seq
            """;
        expire.Parameters.AddWithValue("$reason", DeliveryFailure.Expired);
        expire.Parameters.AddWithValue("$now", nowMs);
        expire.Parameters.AddWithValue("$ids", System.Text.Json.JsonSerializer.Serialize(deliveryIds));
        var messageSeqs = new List<long>();
        using (var reader = expire.ExecuteReader())
        {
            while (reader.Read())
            {
                messageSeqs.Add(reader.GetInt64(0));
            }
        }

        var payloadBytes = PayloadBytes(messageSeqs);
        return new LaneChange(lane, messageSeqs.Count, messageSeqs.Sum(seq => payloadBytes[seq]));
    }

    // The payload length of each message, by seq.
    private Dictionary<long, long> PayloadBytes(IEnumerable<long> messageSeqs)
    {
        using var bytes = AdHoc();
        bytes.CommandText = "SELECT seq, length(payload) FROM wal_message WHERE seq IN (SELECT value FROM json_each($seqs))";
        bytes.Parameters.AddWithValue("$seqs", System.Text.Json.JsonSerializer.Serialize(messageSeqs.Distinct()));
        var lengths = new Dictionary<long, long>();
        using var reader = bytes.ExecuteReader();
        while (reader.Read())
        {
            lengths[reader.GetInt64(0)] = reader.GetInt64(1);
        }

        return lengths;
    }

    /// <summary>Deletes the matching dead letters, and their messages once no delivery needs them.</summary>
    public int PurgeDead(DeadLetterFilter filter)
    {
        using var purge = AdHoc();
        purge.CommandText = $"DELETE FROM wal_delivery WHERE id IN ({SqliteDeadLetterQuery.MatchingIds(purge, filter)}) RETURNING message_seq";
        return DeleteDeliveries(purge);
    }

    public int WriteProbe(long nowMs)
    {
        _writeProbe.Parameters[0].Value = nowMs;
        return _writeProbe.ExecuteNonQuery();
    }

    public void Dispose()
    {
        foreach (var command in _all)
        {
            command.Dispose();
        }
    }


    private SqliteCommand Create(SqliteConnection connection, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        _all.Add(command);
        return command;
    }

    /// <summary>Adds a device to the directory or moves its seen times forward, keeping the first first-seen.</summary>
    public int RecordDevice(DeviceDirectoryEntry entry)
    {
        using var upsert = AdHoc();
        upsert.CommandText = """
            INSERT INTO wal_device_directory (device_id, first_seen, last_seen) VALUES ($device_id, $first_seen, $last_seen)
            ON CONFLICT (device_id) DO UPDATE SET
                first_seen = coalesce(wal_device_directory.first_seen, excluded.first_seen),
                last_seen = CASE
                    WHEN excluded.last_seen IS NOT NULL AND (wal_device_directory.last_seen IS NULL OR excluded.last_seen > wal_device_directory.last_seen)
                    THEN excluded.last_seen ELSE wal_device_directory.last_seen END
            """;
        upsert.Parameters.AddWithValue("$device_id", entry.DeviceId);
        upsert.Parameters.AddWithValue("$first_seen", (object?)entry.FirstSeen?.ToUnixTimeMilliseconds() ?? DBNull.Value);
        upsert.Parameters.AddWithValue("$last_seen", (object?)entry.LastSeen?.ToUnixTimeMilliseconds() ?? DBNull.Value);
        return upsert.ExecuteNonQuery();
    }
}
