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
    private readonly PendingByLane _pending = new();
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
        WriteLeftovers();

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
            _enqueuedRecords = CountPendingByLane(snapshot, DeliveryState.Enqueued);
            _inFlightRecords = CountPendingByLane(snapshot, DeliveryState.InFlight);
            _ackedRecords = CountRecords(snapshot, DeliveryState.Acked);
            _deadRecords = CountRecords(snapshot, DeliveryState.Dead);
            _writer = new SqliteWalWriter(_database, _options.MaxBatchOperations, new CommitLinger(_options.CommitLinger), _time, _listener.OnPartitionsWoken, _metrics, _logger);
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

    /// <summary>
    /// The delivery rows an earlier process did not write before it ended (<see cref="UnwrittenDeliveries"/>) and the
    /// device index entries of its last messages (<see cref="UnindexedMessages"/>), in one synced commit before anything
    /// counts or leases.
    /// </summary>
    private void WriteLeftovers()
    {
        using var connection = _database.Open();
        using var commands = new SqliteWalCommands(connection);
        using var transaction = connection.BeginTransaction(deferred: false);
        commands.Enlist(transaction);
        var written = commands.WriteLeftoverDeliveries(_time.GetUtcNow().ToUnixTimeMilliseconds());
        commands.IndexDeviceMessages();
        transaction.Commit();
        if (written > 0)
        {
            LogLeftoverDeliveries(_logger, written);
        }
    }

    /// <summary>
    /// Writes the delivery rows of committed appends that are not written yet (<see cref="UnwrittenDeliveries"/>), for a
    /// lease or a read of the delivery table; completes at once when there are none.
    /// </summary>
    internal Task WriteDeliveryRowsAsync() =>
        Writer.UnwrittenDeliveries == 0
            ? Task.CompletedTask
            : Writer.Submit(new WalCall<int>((_, _) => 0) { MustBeDurable = false, WritesDeliveryRows = true });

    /// <summary>Runs <paramref name="read"/> of the delivery table once every committed append's rows are written.</summary>
    private async Task<T> ReadDeliveriesAsync<T>(Func<T> read)
    {
        await WriteDeliveryRowsAsync().ConfigureAwait(false);
        return read();
    }

    /// <summary>Completes once the pending payload bytes found at <see cref="Open"/> are in the statistics.</summary>
    internal Task PendingBytesCounted => _pendingBytesCounted;

    private void AddPendingBytes(SqliteConnection connection, SqliteTransaction snapshot)
    {
        try
        {
            AddPendingBytesByLane(snapshot);
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
        foreach (var message in append.Messages)
        {
            _pending.Add(message.Lane, message.Routes.Count, (long)message.Payload.Length * message.Routes.Count);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<WalRecord>> LeaseAsync(PartitionKey partition, int maxRecords, long? leaseholder = null, int lastLane = Lanes.Lane.LowestPriority)
    {
        var leaseReader = _leaseReader ?? throw new InvalidOperationException("The WAL store is not open.");
        // The lease reads the delivery rows: the appends committed before it must have theirs. Without ConfigureAwait, so
        // the read runs back on the caller's scheduler, never on the writer thread that settles the commit.
        await WriteDeliveryRowsAsync();
        // To the millisecond, as the ack or failure will record it.
        var leasedAt = DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds());
        var records = _leased.Lease(partition, maxRecords, limit => leaseReader.ReadEnqueued(partition, limit, leaseholder, lastLane, leasedAt));
        Interlocked.Add(ref _enqueuedRecords, -records.Count);
        Interlocked.Add(ref _inFlightRecords, records.Count);
        return records;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<int, PendingLanes>> GetPendingLanesAsync(string sink, int partitionCount)
    {
        var leaseReader = _leaseReader ?? throw new InvalidOperationException("The WAL store is not open.");
        // Leased records are Enqueued rows (LeasedDeliveries), so a lane being sent still counts as pending.
        await WriteDeliveryRowsAsync();
        return leaseReader.ReadPendingLanes(sink, partitionCount);
    }

    /// <inheritdoc />
    public async Task AckAsync(IReadOnlyList<WalRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        // Only records still leased are settled (checked on the writer, just before the update): a record recovered
        // meanwhile is back in the queue, and a late ack or failure from the attempt that lost it must not touch it.
        var acked = await Writer.Submit(
            new WalCall<List<WalRecord>>((commands, now) => commands.MarkAcked(_leased.StillLeased(records), now)) { MustBeDurable = false }).ConfigureAwait(false);
        Interlocked.Add(ref _inFlightRecords, -_leased.Release(records));
        Interlocked.Add(ref _ackedRecords, acked.Count);
        _pending.Remove(acked);
    }

    /// <inheritdoc />
    public async Task<int> FailAsync(IReadOnlyList<WalRecord> records, DeliveryFailure failure)
    {
        var (requeued, dead) = await Writer.Submit(
            new WalCall<(int, List<WalRecord>)>((commands, now) => commands.MarkFailed(_leased.StillLeased(records), failure, now)) { MustBeDurable = false }).ConfigureAwait(false);
        Interlocked.Add(ref _inFlightRecords, -_leased.Release(records));
        Interlocked.Add(ref _enqueuedRecords, requeued);
        Interlocked.Add(ref _deadRecords, dead.Count);
        _pending.Remove(dead);
        return dead.Count;
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
    public async Task<LaneChange> ExpireAsync(int lane, DateTimeOffset cutoff, int limit)
    {
        // Held from the lease reader from their selection to the commit that makes them Dead (LeasedDeliveries.Hold).
        List<long> held = [];
        try
        {
            var expired = await Writer.Submit(new WalCall<LaneChange>((commands, now) =>
            {
                _leased.Unhold(held);
                held = _leased.Hold(commands.SelectExpired(lane, cutoff.ToUnixTimeMilliseconds(), limit));
                return commands.MarkExpired(lane, held, now);
            }) { MustBeDurable = false }).ConfigureAwait(false);
            Interlocked.Add(ref _enqueuedRecords, -expired.Count);
            Interlocked.Add(ref _deadRecords, expired.Count);
            _pending.Add(lane, -expired.Count, -expired.Bytes);
            return expired;
        }
        finally
        {
            _leased.Unhold(held);
        }
    }

    /// <inheritdoc />
    public Task ProbeWriteAsync() => Writer.Submit(new WalCall<int>((commands, now) => commands.WriteProbe(now)));

    /// <inheritdoc />
    public Task<IReadOnlyList<DeadLetter>> ListDeadAsync(DeadLetterFilter filter, long after, int limit)
    {
        // Dead letters are written rows: a delivery becomes Dead by a failure, after a lease wrote its row.
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
        foreach (var lane in change.ByLane)
        {
            _pending.Add(lane.Lane, lane.Count, lane.Bytes);
        }

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
    public Task<WalDeviceRecord> GetDeviceAsync(string deviceId) => Task.FromResult(SqliteWalQueries.GetDevice(_database, deviceId));

    /// <inheritdoc />
    public Task<IReadOnlyList<RecentDeviceMessage>> GetRecentDeviceMessagesAsync(string deviceId, DateTimeOffset since, int limit)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        // Newest first from each half of the device's messages (SqliteDeviceMessages): the index walked backwards, the tail.
        command.CommandText = $"""
            SELECT * FROM (
                SELECT m.device_message_id, m.message_id, m.device_sequence, m.received_at
                FROM wal_device_message dm JOIN wal_message m ON m.seq = dm.seq
                WHERE dm.device_id = $device_id AND m.device_message_id IS NOT NULL AND m.received_at >= $since
                ORDER BY dm.device_sequence DESC LIMIT $limit)
            UNION ALL
            SELECT device_message_id, message_id, device_sequence, received_at FROM wal_message
            WHERE {SqliteDeviceMessages.Unindexed} AND device_id = $device_id AND device_message_id IS NOT NULL AND received_at >= $since
            ORDER BY 3 DESC
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
    public Task<IReadOnlyList<PartitionKey>> GetPendingPartitionsAsync() => ReadDeliveriesAsync(ReadPendingPartitions);

    private IReadOnlyList<PartitionKey> ReadPendingPartitions()
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

        return partitions;
    }

    /// <inheritdoc />
    public WalStatistics GetStatistics()
    {
        var enqueued = Interlocked.Read(ref _enqueuedRecords);
        var inFlight = Interlocked.Read(ref _inFlightRecords);
        return new WalStatistics(
            enqueued + inFlight,
            // Before the start-up sum lands, acks of records stored before the start subtract bytes never added.
            Math.Max(0, _pending.TotalBytes),
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
    public Task<MessageLifecycle?> GetMessageLifecycleAsync(string messageId) =>
        ReadDeliveriesAsync(() => SqliteWalQueries.GetMessageLifecycle(_database, _leased, messageId));

    /// <inheritdoc />
    public Task<IReadOnlyList<PartitionDepth>> GetPartitionDepthsAsync(string sink) =>
        ReadDeliveriesAsync(() => SqliteWalQueries.GetPartitionDepths(_database, _leased, sink));

    /// <inheritdoc />
    public Task<DeviceDeliveryCounts> GetDeviceDeliveryCountsAsync(string deviceId) =>
        ReadDeliveriesAsync(() => SqliteWalQueries.GetDeviceDeliveryCounts(_database, deviceId));

    /// <inheritdoc />
    public Task<IReadOnlyList<DeviceDirectoryEntry>> ListDevicesAsync(string? after, DateTimeOffset? seenSince, int limit) =>
        Task.FromResult(SqliteWalQueries.ListDevices(_database, after, seenSince, limit));

    /// <inheritdoc />
    public Task<WalStorage> GetStorageAsync() => ReadDeliveriesAsync(() => SqliteWalQueries.GetStorage(_database));

    /// <inheritdoc />
    public Task<IReadOnlyList<SinkBacklog>> GetSinkBacklogsAsync() => ReadDeliveriesAsync(() => SqliteWalQueries.GetSinkBacklogs(_database));

    /// <inheritdoc />
    public Task<IReadOnlyList<LaneBacklog>> GetLaneBacklogsAsync() =>
        ReadDeliveriesAsync(() => SqliteWalQueries.GetLaneBacklogs(_database, _pending.Snapshot()));

    /// <inheritdoc />
    public Task RecordDeviceAsync(DeviceDirectoryEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return Writer.Submit(new WalCall<int>((commands, _) => commands.RecordDevice(entry)));
    }

    // The state's deliveries, added to each lane's pending count; returns the total. The literal state in the WHERE clause
    // lets SQLite pick that state's partial index.
    private long CountPendingByLane(SqliteTransaction transaction, DeliveryState state)
    {
        using var count = transaction.Connection!.CreateCommand();
        count.Transaction = transaction;
        count.CommandText = $"SELECT lane, count(*) FROM wal_delivery WHERE state = {(int)state} GROUP BY lane";
        long total = 0;
        using var reader = count.ExecuteReader();
        while (reader.Read())
        {
            var records = reader.GetInt64(1);
            _pending.Add(reader.GetInt32(0), records, 0);
            total += records;
        }

        return total;
    }

    private static long CountRecords(SqliteTransaction transaction, DeliveryState state)
    {
        using var count = transaction.Connection!.CreateCommand();
        count.Transaction = transaction;
        count.CommandText = $"SELECT count(*) FROM wal_delivery WHERE state = {(int)state}";
        return (long)count.ExecuteScalar()!;
    }

    // Each lane's pending payload bytes: the Enqueued and InFlight deliveries each need their message's row.
    private void AddPendingBytesByLane(SqliteTransaction transaction)
    {
        using var sum = transaction.Connection!.CreateCommand();
        sum.Transaction = transaction;
        sum.CommandText = $"""
            SELECT d.lane, coalesce(sum(length(m.payload)), 0)
            FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq
            WHERE d.state IN ({(int)DeliveryState.Enqueued}, {(int)DeliveryState.InFlight})
            GROUP BY d.lane
            """;
        using var reader = sum.ExecuteReader();
        while (reader.Read())
        {
            _pending.Add(reader.GetInt32(0), 0, reader.GetInt64(1));
        }
    }

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Wrote {Count} delivery rows of messages stored before the last stop")]
    private static partial void LogLeftoverDeliveries(ILogger logger, int count);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Summing the pending payload bytes at start failed; the WAL byte count and its high-water mark see only what changed since the start")]
    private static partial void LogPendingBytesFailed(ILogger logger, Exception error);
}
