using System.Text;
using Gateway.DeadLetters;
using Gateway.Partitions;
using Npgsql;
using NpgsqlTypes;

namespace Gateway.Wal.PostgreSql;

/// <summary>
/// The WAL's statements on PostgreSQL. Each is one statement with positional parameters, so any number of them
/// share one batch; a delivery's state only ever moves inside a statement that checks the state it expects, so
/// several nodes' writers can work on the same tables.
/// </summary>
internal static class PostgreSqlWalStatements
{
    // One statement per device batch: its messages, one delivery per message and route (ids in message
    // order), and the device's record (last sequence, first and last seen, messages accepted), all in the same
    // transaction.
    private const string Append = """
        WITH m AS (
            INSERT INTO wal_message (message_id, device_id, device_sequence, device_message_id, received_at, content_type, payload, trace_parent, topic, lane)
            SELECT u.message_id, $1, u.device_sequence, u.device_message_id, u.received_at, u.content_type, u.payload, u.trace_parent, u.topic, u.lane
            FROM unnest($2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::bytea[], $8::text[], $9::text[], $17::smallint[])
                AS u(message_id, device_sequence, device_message_id, received_at, content_type, payload, trace_parent, topic, lane)
            ORDER BY u.device_sequence
            RETURNING seq, device_sequence, lane),
        d AS (
            INSERT INTO wal_device (device_id, last_sequence, first_seen_at, last_seen_at, accepted_count) VALUES ($1, $10, $15, $15, $16)
            ON CONFLICT (device_id) DO UPDATE SET
                last_sequence = greatest(wal_device.last_sequence, excluded.last_sequence),
                first_seen_at = coalesce(wal_device.first_seen_at, excluded.first_seen_at),
                last_seen_at = greatest(wal_device.last_seen_at, excluded.last_seen_at),
                accepted_count = wal_device.accepted_count + excluded.accepted_count)
        INSERT INTO wal_delivery (message_seq, sink, partition, state, attempts, updated_at, lane)
        SELECT m.seq, r.sink, r.partition, 0, 0, $11, m.lane
        FROM unnest($12::bigint[], $13::text[], $14::integer[]) WITH ORDINALITY AS r(device_sequence, sink, partition, route)
        JOIN m ON m.device_sequence = r.device_sequence
        ORDER BY m.seq, r.route
        RETURNING id
        """;

    // Whether the caller ($n, null: no check) may lease the partition ($1, $2): it is the leaseholder, or there is
    // none. FOR SHARE waits for a claim in progress and then reads the holder it committed.
    private static string Holds(int n) =>
        $"(${n}::bigint IS NULL OR coalesce((SELECT h.holder FROM wal_partition_leaseholder h WHERE h.sink = $1 AND h.partition = $2 FOR SHARE), ${n}) = ${n})";

    // FOR UPDATE (not SKIP LOCKED): a partition has one activation, and skipping a row would break WAL order.
    private static readonly string Lease = $"""
        WITH leased AS (
            UPDATE wal_delivery SET state = 1, updated_at = $4
            WHERE id IN (SELECT id FROM wal_delivery WHERE sink = $1 AND partition = $2 AND state = 0 AND lane <= $6 AND {Holds(5)} ORDER BY lane, id LIMIT $3 FOR UPDATE)
            RETURNING id, attempts, message_seq, lane)
        SELECT l.id, l.attempts, m.message_id, m.device_id, m.device_sequence, m.received_at, m.content_type, m.payload, m.trace_parent, m.topic, l.lane::integer
        FROM leased l JOIN wal_message m ON m.seq = l.message_seq
        ORDER BY l.lane, l.id
        """;

    private const string Ack = "UPDATE wal_delivery SET state = 2, updated_at = $2 WHERE id = ANY($1) AND state = 1 RETURNING id";

    private const string Fail = """
        UPDATE wal_delivery d SET
            attempts = d.attempts + 1,
            state = CASE WHEN $3 OR d.attempts + 1 >= $4 OR u.received_at < $5 THEN 3 ELSE 0 END,
            next_attempt_at = $6,
            first_error = coalesce(d.first_error, $7),
            last_error = $7,
            updated_at = $8
        FROM unnest($1::bigint[], $2::bigint[]) AS u(id, received_at)
        WHERE d.id = u.id AND d.state = 1
        RETURNING d.id, d.state
        """;

    private static readonly string Recover =
        $"UPDATE wal_delivery SET state = 0, updated_at = $3 WHERE sink = $1 AND partition = $2 AND state = 1 AND {Holds(4)} RETURNING id";

    private const string Claim = """
        INSERT INTO wal_partition_leaseholder (sink, partition, holder) VALUES ($1, $2, $3)
        ON CONFLICT (sink, partition) DO UPDATE SET holder = excluded.holder
        RETURNING holder
        """;

    // A data-modifying CTE's changes are invisible to the rest of its statement, so "no other delivery needs the
    // message" must leave out the deliveries deleted here.
    private const string DeleteOrphans = """
        orphans AS (
            DELETE FROM wal_message m
            WHERE m.seq IN (SELECT message_seq FROM gone)
              AND NOT EXISTS (SELECT 1 FROM wal_delivery o WHERE o.message_seq = m.seq AND o.id NOT IN (SELECT id FROM gone)))
        """;

    // The try-lock makes one node compact at a time; the others delete nothing that round, so two nodes never
    // both keep a shared message alive by each seeing the other's delivery to it.
    private const string Compact = $"""
        WITH lock AS MATERIALIZED (SELECT pg_try_advisory_xact_lock(24610813077434704) AS held),
        gone AS (
            DELETE FROM wal_delivery
            WHERE id IN (SELECT id FROM wal_delivery WHERE state = 2 AND updated_at < $1 AND (SELECT held FROM lock) ORDER BY id LIMIT $2)
            RETURNING id, message_seq),
        {DeleteOrphans}
        SELECT count(*) FROM gone
        """;

    private const string Probe = """
        INSERT INTO wal_probe (node, written_at) VALUES ($1, $2)
        ON CONFLICT (node) DO UPDATE SET written_at = excluded.written_at
        RETURNING written_at
        """;

    // Seen times only move forward, and the first first-seen is kept (see SqliteWalCommands.RecordDevice); greatest
    // ignores a null side.
    private const string RecordDevice = """
        INSERT INTO wal_device_directory (device_id, first_seen, last_seen) VALUES ($1, $2, $3)
        ON CONFLICT (device_id) DO UPDATE SET
            first_seen = coalesce(wal_device_directory.first_seen, excluded.first_seen),
            last_seen = greatest(wal_device_directory.last_seen, excluded.last_seen)
        RETURNING device_id
        """;

    private const string AddCounts = """
        INSERT INTO wal_counter (node, enqueued, in_flight, acked, dead, pending_bytes) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (node) DO UPDATE SET
            enqueued = wal_counter.enqueued + excluded.enqueued,
            in_flight = wal_counter.in_flight + excluded.in_flight,
            acked = wal_counter.acked + excluded.acked,
            dead = wal_counter.dead + excluded.dead,
            pending_bytes = wal_counter.pending_bytes + excluded.pending_bytes
        RETURNING node
        """;

    private const string ReadCounts = """
        SELECT coalesce(sum(enqueued), 0)::bigint, coalesce(sum(in_flight), 0)::bigint, coalesce(sum(acked), 0)::bigint,
               coalesce(sum(dead), 0)::bigint, coalesce(sum(pending_bytes), 0)::bigint
        FROM wal_counter
        """;

    /// <summary>Folds the counter rows of every earlier process into the row '' (their changes stay counted).</summary>
    public const string FoldCounts = """
        WITH gone AS (DELETE FROM wal_counter WHERE node <> '' RETURNING *)
        INSERT INTO wal_counter (node, enqueued, in_flight, acked, dead, pending_bytes)
        SELECT '', coalesce(sum(enqueued), 0), coalesce(sum(in_flight), 0), coalesce(sum(acked), 0), coalesce(sum(dead), 0), coalesce(sum(pending_bytes), 0)
        FROM gone
        ON CONFLICT (node) DO UPDATE SET
            enqueued = wal_counter.enqueued + excluded.enqueued,
            in_flight = wal_counter.in_flight + excluded.in_flight,
            acked = wal_counter.acked + excluded.acked,
            dead = wal_counter.dead + excluded.dead,
            pending_bytes = wal_counter.pending_bytes + excluded.pending_bytes
        """;

    public static PostgreSqlWalCall<bool> AppendCall(WalAppend append)
    {
        var woken = new List<PartitionKey>();
        foreach (var message in append.Messages)
        {
            woken.AddRange(message.Routes);
        }

        return new PostgreSqlWalCall<bool>(
            (commands, now) => commands.Add(AppendCommand(append, now)),
            async results =>
            {
                var deliveries = await DrainAsync(await results.NextAsync().ConfigureAwait(false)).ConfigureAwait(false);
                return (true, new WalCounts(Enqueued: deliveries, 0, 0, 0, append.DeliveryBytes));
            },
            _ => woken);
    }

    public static PostgreSqlWalCall<List<WalRecord>> LeaseCall(PartitionKey partition, int limit, long? leaseholder, int lastLane)
    {
        var leasedAt = DateTimeOffset.UnixEpoch;
        return new(
            (commands, now) =>
            {
                leasedAt = DateTimeOffset.FromUnixTimeMilliseconds(now);
                commands.Add(Command(Lease, Text(partition.Sink), Int(partition.Partition), Int(limit), Long(now), Leaseholder(leaseholder), Int(lastLane)));
            },
            async results =>
            {
                var reader = await results.NextAsync().ConfigureAwait(false);
                var records = new List<WalRecord>();
                while (await reader.ReadAsync().ConfigureAwait(false))
                {
                    records.Add(WalRecord.FromLeasedRow(reader, leasedAt));
                }

                return (records, new WalCounts(-records.Count, records.Count, 0, 0, 0));
            }) { MustBeDurable = false };
    }

    public static PostgreSqlWalCall<int> AckCall(IReadOnlyList<WalRecord> records) => new(
        (commands, now) => commands.Add(Command(Ack, LongArray(records.Select(record => record.DeliveryId)), Long(now))),
        async results =>
        {
            // Counted by what the update changed: a record recovered meanwhile was not acked here.
            var changed = await ReadIdsAsync(await results.NextAsync().ConfigureAwait(false)).ConfigureAwait(false);
            var bytes = records.Where(record => changed.Contains(record.DeliveryId)).Sum(record => (long)record.Payload.Length);
            return (changed.Count, new WalCounts(0, -changed.Count, changed.Count, 0, -bytes));
        }) { MustBeDurable = false };

    public static PostgreSqlWalCall<int> FailCall(IReadOnlyList<WalRecord> records, DeliveryFailure failure) => new(
        (commands, now) => commands.Add(Command(Fail,
            LongArray(records.Select(record => record.DeliveryId)),
            LongArray(records.Select(record => record.ReceivedAt.ToUnixTimeMilliseconds())),
            new NpgsqlParameter<bool> { TypedValue = failure.Permanent },
            Int(failure.MaxAttempts),
            Long(failure.DeadIfReceivedBefore.ToUnixTimeMilliseconds()),
            Long(failure.NextAttemptAt.ToUnixTimeMilliseconds()),
            Text(failure.Error),
            Long(now))),
        async results =>
        {
            var reader = await results.NextAsync().ConfigureAwait(false);
            var dead = new HashSet<long>();
            var requeued = 0;
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                if (reader.GetInt16(1) == (short)DeliveryState.Dead)
                {
                    dead.Add(reader.GetInt64(0));
                }
                else
                {
                    requeued++;
                }
            }

            var deadBytes = records.Where(record => dead.Contains(record.DeliveryId)).Sum(record => (long)record.Payload.Length);
            return (dead.Count, new WalCounts(requeued, -(requeued + dead.Count), 0, dead.Count, -deadBytes));
        }) { MustBeDurable = false };

    public static PostgreSqlWalCall<int> RecoverCall(PartitionKey partition, long? leaseholder) => new(
        (commands, now) => commands.Add(Command(Recover, Text(partition.Sink), Int(partition.Partition), Long(now), Leaseholder(leaseholder))),
        async results =>
        {
            var recovered = await DrainAsync(await results.NextAsync().ConfigureAwait(false)).ConfigureAwait(false);
            return (recovered, new WalCounts(recovered, -recovered, 0, 0, 0));
        }) { MustBeDurable = false };

    // The claim's row lock is held to the commit, so a lease by the earlier holder on another node waits for it.
    public static PostgreSqlWalCall<int> ClaimCall(PartitionKey partition, long leaseholder) => new(
        (commands, now) =>
        {
            commands.Add(Command(Claim, Text(partition.Sink), Int(partition.Partition), Long(leaseholder)));
            // The claim just made it the holder: every InFlight record goes back, with no holder check to repeat.
            commands.Add(Command(Recover, Text(partition.Sink), Int(partition.Partition), Long(now), Leaseholder(null)));
        },
        async results =>
        {
            await DrainAsync(await results.NextAsync().ConfigureAwait(false)).ConfigureAwait(false);
            var recovered = await DrainAsync(await results.NextAsync().ConfigureAwait(false)).ConfigureAwait(false);
            return (recovered, new WalCounts(recovered, -recovered, 0, 0, 0));
        });

    public static PostgreSqlWalCall<int> CompactCall(DateTimeOffset cutoff, int limit) => new(
        (commands, _) => commands.Add(Command(Compact, Long(cutoff.ToUnixTimeMilliseconds()), Int(limit))),
        async results =>
        {
            var deleted = (int)await ReadScalarAsync(await results.NextAsync().ConfigureAwait(false)).ConfigureAwait(false);
            return (deleted, new WalCounts(0, 0, -deleted, 0, 0));
        }) { MustBeDurable = false };

    public static PostgreSqlWalCall<long> ProbeCall(string node) => new(
        (commands, now) => commands.Add(Command(Probe, Text(node), Long(now))),
        async results => (await ReadScalarAsync(await results.NextAsync().ConfigureAwait(false)).ConfigureAwait(false), default));

    public static PostgreSqlWalCall<DeadLetterChange> ReplayDeadCall(DeadLetterFilter filter) => new(
        (commands, now) =>
        {
            var command = new NpgsqlBatchCommand();
            command.Parameters.Add(Long(now));
            command.CommandText = $"""
                WITH replayed AS (
                    UPDATE wal_delivery SET state = 0, attempts = 0, next_attempt_at = NULL, updated_at = $1, replayed_at = $1
                    WHERE id IN ({PostgreSqlDeadLetterQuery.MatchingIds(command, filter)})
                    RETURNING sink, partition, message_seq)
                SELECT r.sink, r.partition, length(m.payload)::bigint FROM replayed r JOIN wal_message m ON m.seq = r.message_seq
                """;
            commands.Add(command);
        },
        async results =>
        {
            var reader = await results.NextAsync().ConfigureAwait(false);
            var partitions = new HashSet<PartitionKey>();
            var count = 0;
            long bytes = 0;
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                partitions.Add(new PartitionKey(reader.GetString(0), reader.GetInt32(1)));
                bytes += reader.GetInt64(2);
                count++;
            }

            return (new DeadLetterChange(count, bytes, partitions), new WalCounts(count, 0, 0, -count, bytes));
        },
        change => change.Partitions);

    // Leased records are InFlight rows here, so an Enqueued one is never being sent: the state check is the whole guard.
    private const string Expire = """
        WITH expired AS (
            UPDATE wal_delivery SET state = 3, first_error = coalesce(first_error, $1), last_error = $1, updated_at = $2
            WHERE id IN (
                SELECT d.id FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq
                WHERE d.state = 0 AND d.lane = $3 AND coalesce(d.replayed_at, m.received_at) < $4
                ORDER BY d.id LIMIT $5 FOR UPDATE OF d)
              AND state = 0
            RETURNING message_seq)
        SELECT count(*)::bigint, coalesce(sum(length(m.payload)), 0)::bigint FROM expired e JOIN wal_message m ON m.seq = e.message_seq
        """;

    public static PostgreSqlWalCall<LaneChange> ExpireCall(int lane, DateTimeOffset cutoff, int limit) => new(
        (commands, now) => commands.Add(Command(Expire, Text(DeliveryFailure.Expired), Long(now), Int(lane), Long(cutoff.ToUnixTimeMilliseconds()), Int(limit))),
        async results =>
        {
            var reader = await results.NextAsync().ConfigureAwait(false);
            await reader.ReadAsync().ConfigureAwait(false);
            var expired = new LaneChange(lane, (int)reader.GetInt64(0), reader.GetInt64(1));
            return (expired, new WalCounts(-expired.Count, 0, 0, expired.Count, -expired.Bytes));
        }) { MustBeDurable = false };

    public static PostgreSqlWalCall<int> PurgeDeadCall(DeadLetterFilter filter) => new(
        (commands, _) =>
        {
            var command = new NpgsqlBatchCommand();
            command.CommandText = $"""
                WITH gone AS (DELETE FROM wal_delivery WHERE id IN ({PostgreSqlDeadLetterQuery.MatchingIds(command, filter)}) RETURNING id, message_seq),
                {DeleteOrphans}
                SELECT count(*) FROM gone
                """;
            commands.Add(command);
        },
        async results =>
        {
            var purged = (int)await ReadScalarAsync(await results.NextAsync().ConfigureAwait(false)).ConfigureAwait(false);
            return (purged, new WalCounts(0, 0, 0, -purged, 0));
        });

    public static PostgreSqlWalCall<int> RecordDeviceCall(DeviceDirectoryEntry entry) => new(
        (commands, _) => commands.Add(Command(RecordDevice, Text(entry.DeviceId), Milliseconds(entry.FirstSeen), Milliseconds(entry.LastSeen))),
        async results => (await DrainAsync(await results.NextAsync().ConfigureAwait(false)).ConfigureAwait(false), default));

    /// <summary>Adds a commit's change to the node's counter row and reads the cluster-wide totals after it.</summary>
    public static PostgreSqlWalCall<WalCounts> CountsCall(string node, WalCounts delta) => new(
        (commands, _) =>
        {
            if (!delta.IsZero)
            {
                commands.Add(Command(AddCounts, Text(node), Long(delta.Enqueued), Long(delta.InFlight), Long(delta.Acked), Long(delta.Dead), Long(delta.PendingBytes)));
            }

            commands.Add(Command(ReadCounts));
        },
        async results =>
        {
            if (!delta.IsZero)
            {
                await results.NextAsync().ConfigureAwait(false);
            }

            var reader = await results.NextAsync().ConfigureAwait(false);
            await reader.ReadAsync().ConfigureAwait(false);
            return (new WalCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)), default);
        },
        isWork: false);

    private static NpgsqlBatchCommand AppendCommand(WalAppend append, long now)
    {
        var count = append.Messages.Count;
        var messageIds = new string[count];
        var sequences = new long[count];
        var deviceMessageIds = new string?[count];
        var receivedAt = new long[count];
        var contentTypes = new string[count];
        var payloads = new byte[count][];
        var traceParents = new string?[count];
        var topics = new string[count];
        var lanes = new short[count];
        var routeSequences = new List<long>(count);
        var routeSinks = new List<string>(count);
        var routePartitions = new List<int>(count);
        for (var i = 0; i < count; i++)
        {
            var message = append.Messages[i];
            messageIds[i] = message.MessageId;
            sequences[i] = message.Sequence;
            deviceMessageIds[i] = message.DeviceMessageId;
            receivedAt[i] = message.ReceivedAt.ToUnixTimeMilliseconds();
            contentTypes[i] = message.ContentType;
            payloads[i] = message.PayloadArray();
            traceParents[i] = message.TraceParent;
            topics[i] = message.Topic;
            lanes[i] = (short)message.Lane;
            foreach (var route in message.Routes)
            {
                routeSequences.Add(message.Sequence);
                routeSinks.Add(route.Sink);
                routePartitions.Add(route.Partition);
            }
        }

        return Command(Append,
            Text(append.DeviceId),
            new NpgsqlParameter<string[]> { TypedValue = messageIds },
            new NpgsqlParameter<long[]> { TypedValue = sequences },
            new NpgsqlParameter<string?[]> { TypedValue = deviceMessageIds },
            new NpgsqlParameter<long[]> { TypedValue = receivedAt },
            new NpgsqlParameter<string[]> { TypedValue = contentTypes },
            new NpgsqlParameter<byte[][]> { TypedValue = payloads, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea },
            new NpgsqlParameter<string?[]> { TypedValue = traceParents },
            new NpgsqlParameter<string[]> { TypedValue = topics },
            Long(append.Messages[^1].Sequence),
            Long(now),
            new NpgsqlParameter<long[]> { TypedValue = [.. routeSequences] },
            new NpgsqlParameter<string[]> { TypedValue = [.. routeSinks] },
            new NpgsqlParameter<int[]> { TypedValue = [.. routePartitions] },
            Long(receivedAt[^1]),
            Long(count),
            new NpgsqlParameter<short[]> { TypedValue = lanes });
    }

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static NpgsqlParameter<string> Text(string value) => new() { TypedValue = value };

    private static NpgsqlParameter<int> Int(int value) => new() { TypedValue = value };

    private static NpgsqlParameter<long> Long(long value) => new() { TypedValue = value };

    private static NpgsqlParameter Milliseconds(DateTimeOffset? time) =>
        new() { NpgsqlDbType = NpgsqlDbType.Bigint, Value = time is { } value ? value.ToUnixTimeMilliseconds() : DBNull.Value };

    private static NpgsqlParameter Leaseholder(long? leaseholder) =>
        new() { NpgsqlDbType = NpgsqlDbType.Bigint, Value = (object?)leaseholder ?? DBNull.Value };

    private static NpgsqlParameter<long[]> LongArray(IEnumerable<long> values) => new() { TypedValue = [.. values] };

    private static async Task<int> DrainAsync(NpgsqlDataReader reader)
    {
        var rows = 0;
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            rows++;
        }

        return rows;
    }

    private static async Task<HashSet<long>> ReadIdsAsync(NpgsqlDataReader reader)
    {
        var ids = new HashSet<long>();
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    private static async Task<long> ReadScalarAsync(NpgsqlDataReader reader)
    {
        await reader.ReadAsync().ConfigureAwait(false);
        return reader.GetInt64(0);
    }
}
