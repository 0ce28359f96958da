using System.Text;
using Gateway.DeadLetters;
using Gateway.Devices;
using System.Diagnostics;
using Gateway.Partitions;
using Gateway.Storage;
using Gateway.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Wal.Sqlite;

/// <summary>
/// The WAL in the gateway's SQLite file. Mutations go through the group-commit <see cref="SqliteWalWriter"/>;
/// reads use their own pooled connections, which WAL journal mode never blocks.
/// </summary>
public sealed partial class SqliteWalStore : IOpenableWalStore
{
    private readonly SqliteDatabase _database;
    private readonly WalOptions _options;
    private readonly TimeProvider _time;
    private readonly IWalCommitListener _listener;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<SqliteWalStore> _logger;
    private SqliteWalWriter? _writer;
    private SqliteLeaseReader? _leaseReader;
    private readonly LeasedDeliveries _leased = new();
    private long _enqueuedRecords;
    private long _inFlightRecords;
    private long _ackedRecords;
    private long _deadRecords;
    private long _pendingBytes;
    private long _appendedMessages;
    private Task _pendingBytesCounted = Task.CompletedTask;

    /// <summary>Creates the store; <see cref="Open"/> must run before use.</summary>
    public SqliteWalStore(
        SqliteDatabase database,
        IOptions<WalOptions> options,
        TimeProvider time,
        IWalCommitListener listener,
        GatewayMetrics metrics,
        ILogger<SqliteWalStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _database = database;
        _options = options.Value;
        _time = time;
        _listener = listener;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Creates or upgrades the WAL tables, counts what is pending and starts the writer.</summary>
    public void Open()
    {
        if (_writer is not null)
        {
            return;
        }

        SqliteSchemaMigrator.Apply(_database, typeof(SqliteWalStore).Assembly, "wal");

        // Counted once here, then kept up to date by every committed operation, so metrics and backpressure never
        // scan the tables. Each state is counted on its own partial index (0.2 s per million records). The pending
        // payload bytes need each pending message's row (seconds per million), so they are summed after the writer
        // has started: in a read transaction whose snapshot is taken here, before the writer's first commit, so the
        // snapshot's sum plus the deltas every commit adds is exact. Until the sum lands, the byte count (metrics,
        // the byte high-water mark) holds only what changed since the start.
        var connection = _database.Open();
        var snapshot = connection.BeginTransaction(deferred: true);
        try
        {
            _enqueuedRecords = CountRecords(snapshot, DeliveryState.Enqueued);
            _inFlightRecords = CountRecords(snapshot, DeliveryState.InFlight);
            _ackedRecords = CountRecords(snapshot, DeliveryState.Acked);
            _deadRecords = CountRecords(snapshot, DeliveryState.Dead);
            _writer = new SqliteWalWriter(_database, _options.MaxBatchOperations, _time, _listener.OnPartitionsWoken, _metrics, _logger);
            _leaseReader = new SqliteLeaseReader(_database);
        }
        catch
        {
            snapshot.Dispose();
            connection.Dispose();
            throw;
        }

        _pendingBytesCounted = Task.Run(() => AddPendingBytes(connection, snapshot));
    }

    /// <summary>Completes once the pending payload bytes found at <see cref="Open"/> are in the statistics.</summary>
    internal Task PendingBytesCounted => _pendingBytesCounted;

    private void AddPendingBytes(SqliteConnection connection, SqliteTransaction snapshot)
    {
        try
        {
            Interlocked.Add(ref _pendingBytes, SumPendingBytes(snapshot));
        }
        catch (Exception error)
        {
            // Only the byte figure suffers: record counts, ingest and delivery are unaffected.
            LogPendingBytesFailed(_logger, error);
        }
        finally
        {
            snapshot.Dispose();
            connection.Dispose();
        }
    }

    /// <inheritdoc />
    public async Task AppendAsync(WalAppend append)
    {
        ArgumentNullException.ThrowIfNull(append);
        if (append.Messages.Count == 0)
        {
            return;
        }

        // One span per append around the shared commit it waits for: it stays in the message's trace, and
        // says how many other operations shared the commit and how long the commit itself took.
        using var activity = GatewayTelemetry.Source.StartActivity("wal append");
        activity?.SetTag("gateway.device.id", append.DeviceId);
        activity?.SetTag("gateway.wal.messages", append.Messages.Count);
        var operation = new AppendOperation(append);
        try
        {
            await Writer.Submit(operation).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            activity?.SetStatus(ActivityStatusCode.Error, error.Message);
            activity?.SetTag("error.type", error.GetType().FullName);
            throw;
        }

        activity?.SetTag("gateway.wal.commit.operations", operation.CommitOperations);
        activity?.SetTag("gateway.wal.commit.duration_ms", operation.CommitDuration.TotalMilliseconds);
        Interlocked.Add(ref _appendedMessages, append.Messages.Count);
        Interlocked.Add(ref _enqueuedRecords, append.Deliveries);
        Interlocked.Add(ref _pendingBytes, append.DeliveryBytes);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WalRecord>> LeaseAsync(PartitionKey partition, int maxRecords, long? leaseholder = null)
    {
        var leaseReader = _leaseReader ?? throw new InvalidOperationException("The WAL store is not open.");
        // To the millisecond, as the ack or failure will record it.
        var leasedAt = FromMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds());
        var records = _leased.Lease(partition, maxRecords, limit => leaseReader.ReadEnqueued(partition, limit, leaseholder, leasedAt));
        Interlocked.Add(ref _enqueuedRecords, -records.Count);
        Interlocked.Add(ref _inFlightRecords, records.Count);
        return Task.FromResult<IReadOnlyList<WalRecord>>(records);
    }

    /// <inheritdoc />
    public async Task AckAsync(IReadOnlyList<WalRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        // Only records still leased are settled (checked on the writer, just before the update): a record recovered
        // meanwhile is back in the queue, and a late ack or failure from the attempt that lost it must not touch it.
        var (acked, bytes) = await Writer.Submit(
            new WalCall<(int, long)>((commands, now) => commands.MarkAcked(_leased.StillLeased(records), now)) { MustBeDurable = false }).ConfigureAwait(false);
        Interlocked.Add(ref _inFlightRecords, -_leased.Release(records));
        Interlocked.Add(ref _ackedRecords, acked);
        Interlocked.Add(ref _pendingBytes, -bytes);
    }

    /// <inheritdoc />
    public async Task<int> FailAsync(IReadOnlyList<WalRecord> records, DeliveryFailure failure)
    {
        var (requeued, dead, deadBytes) = await Writer.Submit(
            new WalCall<(int, int, long)>((commands, now) => commands.MarkFailed(_leased.StillLeased(records), failure, now)) { MustBeDurable = false }).ConfigureAwait(false);
        Interlocked.Add(ref _inFlightRecords, -_leased.Release(records));
        Interlocked.Add(ref _enqueuedRecords, requeued);
        Interlocked.Add(ref _deadRecords, dead);
        Interlocked.Add(ref _pendingBytes, -deadBytes);
        return dead;
    }

    /// <inheritdoc />
    public Task<int> RecoverInFlightAsync(PartitionKey partition, long? leaseholder = null)
    {
        if (leaseholder is { } holder && LeaseholderOf(partition) is { } current && current != holder)
        {
            return Task.FromResult(0);
        }

        var recovered = _leased.ReleaseAll(partition);
        Interlocked.Add(ref _inFlightRecords, -recovered);
        Interlocked.Add(ref _enqueuedRecords, recovered);
        return Task.FromResult(recovered);
    }

    /// <inheritdoc />
    public async Task<int> ClaimAsync(PartitionKey partition, long leaseholder)
    {
        var written = await Writer.Submit(new WalCall<int>((commands, now) => commands.Claim(partition, leaseholder, now))).ConfigureAwait(false);
        var recovered = written + _leased.ReleaseAll(partition);
        Interlocked.Add(ref _inFlightRecords, -recovered);
        Interlocked.Add(ref _enqueuedRecords, recovered);
        return recovered;
    }

    private long? LeaseholderOf(PartitionKey partition)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT holder FROM wal_partition_leaseholder WHERE sink = $sink AND partition = $partition";
        command.Parameters.AddWithValue("$sink", partition.Sink);
        command.Parameters.AddWithValue("$partition", partition.Partition);
        return command.ExecuteScalar() is long holder ? holder : null;
    }

    /// <inheritdoc />
    public async Task<int> CompactAsync(DateTimeOffset cutoff, int limit)
    {
        var deleted = await Writer.Submit(new WalCall<int>((commands, _) => commands.DeleteAcked(cutoff.ToUnixTimeMilliseconds(), limit)) { MustBeDurable = false }).ConfigureAwait(false);
        Interlocked.Add(ref _ackedRecords, -deleted);
        return deleted;
    }

    /// <inheritdoc />
    public Task ProbeWriteAsync() => Writer.Submit(new WalCall<int>((commands, now) => commands.WriteProbe(now)));

    /// <inheritdoc />
    public Task<IReadOnlyList<DeadLetter>> ListDeadAsync(DeadLetterFilter filter, long after, int limit)
    {
        ArgumentNullException.ThrowIfNull(filter);
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        var sql = new StringBuilder(
            "SELECT d.id, m.message_id, m.device_id, m.device_sequence, d.sink, d.attempts, d.first_error, d.last_error, m.received_at, d.updated_at " +
            "FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq WHERE d.state = 3 AND d.id > $after");
        SqliteDeadLetterQuery.Append(sql, command, filter);
        sql.Append(" ORDER BY d.id LIMIT $limit");
        command.CommandText = sql.ToString();
        command.Parameters.AddWithValue("$after", after);
        command.Parameters.AddWithValue("$limit", limit);
        var dead = new List<DeadLetter>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            dead.Add(new DeadLetter(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(4), reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9))));
        }

        return Task.FromResult<IReadOnlyList<DeadLetter>>(dead);
    }

    /// <inheritdoc />
    public async Task<DeadLetterChange> ReplayDeadAsync(DeadLetterFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var change = await Writer.Submit(new WalCall<DeadLetterChange>((commands, now) => commands.ReplayDead(filter, now), replayed => replayed.Partitions)).ConfigureAwait(false);
        Interlocked.Add(ref _deadRecords, -change.Count);
        Interlocked.Add(ref _enqueuedRecords, change.Count);
        Interlocked.Add(ref _pendingBytes, change.Bytes);
        return change;
    }

    /// <inheritdoc />
    public async Task<int> PurgeDeadAsync(DeadLetterFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var purged = await Writer.Submit(new WalCall<int>((commands, _) => commands.PurgeDead(filter))).ConfigureAwait(false);
        Interlocked.Add(ref _deadRecords, -purged);
        return purged;
    }

    /// <inheritdoc />
    public Task<WalDeviceRecord> GetDeviceAsync(string deviceId)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        // The row covers the messages up to its last sequence; those above it are still stored (SqliteWalCommands.FoldDevice).
        // One statement, so both halves are read from the same snapshot.
        command.CommandText = """
            SELECT d.last_sequence, d.first_seen_at, d.last_seen_at, d.accepted_count, m.last_sequence, m.first_seen, m.last_seen, m.accepted
            FROM (SELECT 1) LEFT JOIN wal_device d ON d.device_id = $device_id
            CROSS JOIN (
                SELECT max(device_sequence) AS last_sequence, min(received_at) AS first_seen, max(received_at) AS last_seen, count(*) AS accepted
                FROM wal_message
                WHERE device_id = $device_id
                  AND device_sequence > coalesce((SELECT last_sequence FROM wal_device WHERE device_id = $device_id), 0)) m
            """;
        command.Parameters.AddWithValue("$device_id", deviceId);
        using var reader = command.ExecuteReader();
        reader.Read();
        var folded = reader.IsDBNull(0)
            ? WalDeviceRecord.None
            : new WalDeviceRecord(reader.GetInt64(0), TimeOrNull(reader, 1), TimeOrNull(reader, 2), reader.GetInt64(3));
        var stored = reader.GetInt64(7);
        return Task.FromResult(stored == 0
            ? folded
            : new WalDeviceRecord(
                reader.GetInt64(4),
                folded.FirstSeen ?? TimeOrNull(reader, 5),
                Later(folded.LastSeen, TimeOrNull(reader, 6)),
                folded.AcceptedCount + stored));
    }

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private static DateTimeOffset? TimeOrNull(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    /// <inheritdoc />
    public Task<IReadOnlyList<RecentDeviceMessage>> GetRecentDeviceMessagesAsync(string deviceId, DateTimeOffset since, int limit)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT device_message_id, message_id, device_sequence, received_at FROM wal_message
            WHERE device_id = $device_id AND device_message_id IS NOT NULL AND received_at >= $since
            ORDER BY device_sequence DESC
            LIMIT $limit
            """;
        command.Parameters.AddWithValue("$device_id", deviceId);
        command.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$limit", limit);
        var recent = new List<RecentDeviceMessage>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            recent.Add(new RecentDeviceMessage(
                reader.GetString(0), reader.GetString(1), reader.GetInt64(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
        }

        return Task.FromResult<IReadOnlyList<RecentDeviceMessage>>(recent);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<PartitionKey>> GetPendingPartitionsAsync()
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = SharedWalSql.PendingPartitions;
        var partitions = new List<PartitionKey>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            partitions.Add(new PartitionKey(reader.GetString(0), reader.GetInt32(1)));
        }

        return Task.FromResult<IReadOnlyList<PartitionKey>>(partitions);
    }

    /// <inheritdoc />
    public WalStatistics GetStatistics()
    {
        var enqueued = Interlocked.Read(ref _enqueuedRecords);
        var inFlight = Interlocked.Read(ref _inFlightRecords);
        return new WalStatistics(
            enqueued + inFlight,
            // Before the start-up sum lands, acks of records stored before the start subtract bytes never added.
            Math.Max(0, Interlocked.Read(ref _pendingBytes)),
            _writer?.Transactions ?? 0,
            _writer?.Operations ?? 0,
            Interlocked.Read(ref _appendedMessages))
        {
            SyncedTransactions = _writer?.SyncedTransactions ?? 0,
            EnqueuedRecords = enqueued,
            InFlightRecords = inFlight,
            AckedRecords = Interlocked.Read(ref _ackedRecords),
            DeadRecords = Interlocked.Read(ref _deadRecords),
        };
    }

    /// <summary>Commits what is queued and stops the writer.</summary>
    public void Dispose()
    {
        // The start-up byte sum reads the file on a connection of its own; it ends before the file is let go.
        _pendingBytesCounted.Wait();
        _writer?.Dispose();
        _writer = null;
        _leaseReader?.Dispose();
        _leaseReader = null;
        SqliteConnection.ClearPool(new SqliteConnection(_database.ConnectionString));
    }

    private SqliteWalWriter Writer => _writer ?? throw new InvalidOperationException("The WAL store is not open.");

    /// <inheritdoc />
    public Task<MessageLifecycle?> GetMessageLifecycleAsync(string messageId)
    {
        // Found through the (device, sequence) index the WAL already keeps, so message ids need no index of their own.
        if (!MessageId.TryParse(messageId, out var deviceId, out var sequence))
        {
            return Task.FromResult<MessageLifecycle?>(null);
        }

        using var connection = _database.Open();
        using var message = connection.CreateCommand();
        message.CommandText = """
            SELECT seq, topic, content_type, length(payload), received_at, trace_parent FROM wal_message
            WHERE device_id = $device_id AND device_sequence = $sequence AND message_id = $message_id
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
                return Task.FromResult<MessageLifecycle?>(null);
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
                if (state == DeliveryState.Enqueued && _leased.LeasedAt(id) is { } leasedAt)
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

        return Task.FromResult<MessageLifecycle?>(
            new MessageLifecycle(messageId, deviceId, sequence, topic, contentType, payloadBytes, receivedAt, traceParent, lifecycles));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<PartitionDepth>> GetPartitionDepthsAsync(string sink)
    {
        using var connection = _database.Open();
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
            var leased = _leased.CountIn(new PartitionKey(sink, partition));
            if (leased > 0 && depths[partition] is var depth)
            {
                depths[partition] = depth with { Enqueued = depth.Enqueued - leased, InFlight = depth.InFlight + leased };
            }
        }

        return Task.FromResult<IReadOnlyList<PartitionDepth>>([.. depths.Values]);
    }

    /// <inheritdoc />
    public Task<DeviceDeliveryCounts> GetDeviceDeliveryCountsAsync(string deviceId)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT coalesce(sum(CASE WHEN d.state IN (0, 1) THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN d.state = 3 THEN 1 ELSE 0 END), 0)
            FROM wal_message m JOIN wal_delivery d ON {DeliveryIds.BelongsTo("d.id", "m.seq")} WHERE m.device_id = $device_id
            """;
        command.Parameters.AddWithValue("$device_id", deviceId);
        using var reader = command.ExecuteReader();
        reader.Read();
        return Task.FromResult(new DeviceDeliveryCounts(reader.GetInt64(0), reader.GetInt64(1)));
    }

    /// <inheritdoc />
    public Task RecordDeviceAsync(DeviceDirectoryEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return Writer.Submit(new WalCall<int>((commands, _) => commands.RecordDevice(entry)));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<DeviceDirectoryEntry>> ListDevicesAsync(string? after, DateTimeOffset? seenSince, int limit)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        // Devices that stored messages are in wal_device (up to its last sequence) and in wal_message (above it); the
        // directory adds those an operator provisioned or disabled before they sent anything. The stored devices are
        // found by skipping through the device index one device at a time, and a device's first and last message by
        // its sequence (received_at grows with it), so the list reads a few pages per device, not every message.
        command.CommandText = """
            WITH RECURSIVE stored(device_id) AS (
                SELECT (SELECT min(device_id) FROM wal_message WHERE device_id > $after)
                UNION ALL
                SELECT (SELECT min(device_id) FROM wal_message WHERE device_id > stored.device_id) FROM stored WHERE stored.device_id IS NOT NULL)
            SELECT device_id, min(first_seen), max(last_seen) FROM (
                SELECT device_id, first_seen_at AS first_seen, last_seen_at AS last_seen FROM wal_device WHERE device_id > $after
                UNION ALL
                SELECT device_id,
                       (SELECT received_at FROM wal_message m WHERE m.device_id = stored.device_id ORDER BY device_sequence LIMIT 1),
                       (SELECT received_at FROM wal_message m WHERE m.device_id = stored.device_id ORDER BY device_sequence DESC LIMIT 1)
                FROM stored WHERE device_id IS NOT NULL
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

        return Task.FromResult<IReadOnlyList<DeviceDirectoryEntry>>(devices);
    }

    /// <inheritdoc />
    public Task<WalStorage> GetStorageAsync()
    {
        using var connection = _database.Open();
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
        var journal = new FileInfo(_database.FilePath + "-wal");
        var bytes = reader.GetInt64(0) + (journal.Exists ? journal.Length : 0);
        return Task.FromResult(new WalStorage(bytes, reader.IsDBNull(1) ? null : FromMilliseconds(reader.GetInt64(1))));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SinkBacklog>> GetSinkBacklogsAsync()
    {
        using var connection = _database.Open();
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

        return Task.FromResult<IReadOnlyList<SinkBacklog>>(backlogs);
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

    private static DateTimeOffset FromMilliseconds(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a < b ? a : b;

    // The literal state in each WHERE clause lets SQLite pick that state's partial index.
    private static long CountRecords(SqliteTransaction transaction, DeliveryState state)
    {
        using var count = transaction.Connection!.CreateCommand();
        count.Transaction = transaction;
        count.CommandText = $"SELECT count(*) FROM wal_delivery WHERE state = {(int)state}";
        return (long)count.ExecuteScalar()!;
    }

    private static long SumPendingBytes(SqliteTransaction transaction) =>
        SumBytes(transaction, DeliveryState.Enqueued) + SumBytes(transaction, DeliveryState.InFlight);

    private static long SumBytes(SqliteTransaction transaction, DeliveryState state)
    {
        using var sum = transaction.Connection!.CreateCommand();
        sum.Transaction = transaction;
        sum.CommandText = $"""
            SELECT coalesce(sum(length(m.payload)), 0)
            FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq
            WHERE d.state = {(int)state}
            """;
        return (long)sum.ExecuteScalar()!;
    }

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Summing the pending payload bytes at start failed; the WAL byte count and its high-water mark see only what changed since the start")]
    private static partial void LogPendingBytesFailed(ILogger logger, Exception error);
}
