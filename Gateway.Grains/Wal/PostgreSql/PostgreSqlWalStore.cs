using Gateway.Cluster;
using Gateway.DeadLetters;
using Gateway.Partitions;
using Gateway.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Gateway.Wal.PostgreSql;

/// <summary>
/// The WAL in the cluster's PostgreSQL database, shared by every node. Each node commits its own callers'
/// operations in groups (<see cref="PostgreSqlWalWriter"/>); reads use pooled connections. Its statistics are
/// cluster-wide: the totals as of this node's last commit, refreshed at least every
/// <see cref="GatewayClusterOptions.StatisticsRefreshInterval"/> when the node is idle.
/// </summary>
public sealed class PostgreSqlWalStore : IOpenableWalStore
{
    /// <summary>Schema component of the WAL tables.</summary>
    public const string SchemaComponent = "wal";

    private readonly PostgreSqlDatabase _database;
    private readonly WalOptions _options;
    private readonly GatewayClusterOptions _clusterOptions;
    private readonly TimeProvider _time;
    private readonly IWalCommitListener _listener;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<PostgreSqlWalStore> _logger;
    // A process's own key for its counter and probe rows: a restarted node starts a new row.
    private readonly string _node = Guid.NewGuid().ToString("N");
    private PostgreSqlWalWriter? _writer;
    private CancellationTokenSource? _refreshStop;
    private Task? _refresh;
    private long _appendedMessages;

    /// <summary>Creates the store; <see cref="Open"/> must run before use.</summary>
    public PostgreSqlWalStore(
        PostgreSqlDatabase database,
        IOptions<WalOptions> options,
        IOptions<GatewayClusterOptions> clusterOptions,
        TimeProvider time,
        IWalCommitListener listener,
        GatewayMetrics metrics,
        ILogger<PostgreSqlWalStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clusterOptions);
        _database = database;
        _options = options.Value;
        _clusterOptions = clusterOptions.Value;
        _time = time;
        _listener = listener;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Creates or upgrades the WAL tables, folds old counter rows, reads the totals and starts the writer.</summary>
    public void Open()
    {
        if (_writer is not null)
        {
            return;
        }

        PostgreSqlSchemaMigrator.ApplyAsync(_database, typeof(PostgreSqlWalStore).Assembly, SchemaComponent).GetAwaiter().GetResult();
        using (var fold = _database.DataSource.CreateCommand(PostgreSqlWalStatements.FoldCounts))
        {
            fold.ExecuteNonQuery();
        }

        _writer = new PostgreSqlWalWriter(_database, _node, _options.MaxBatchOperations, _time, _listener.OnPartitionsWoken, _metrics, _logger);
        RefreshTotalsAsync().GetAwaiter().GetResult();
        _refreshStop = new CancellationTokenSource();
        _refresh = RefreshWhileOpenAsync(_refreshStop.Token);
    }

    /// <inheritdoc />
    public async Task AppendAsync(WalAppend append)
    {
        ArgumentNullException.ThrowIfNull(append);
        if (append.Messages.Count == 0)
        {
            return;
        }

        using var activity = GatewayTelemetry.Source.StartActivity("wal append");
        activity?.SetTag("gateway.device.id", append.DeviceId);
        activity?.SetTag("gateway.wal.messages", append.Messages.Count);
        await Writer.Submit(PostgreSqlWalStatements.AppendCall(append)).ConfigureAwait(false);
        Interlocked.Add(ref _appendedMessages, append.Messages.Count);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<WalRecord>> LeaseAsync(PartitionKey partition, int maxRecords, long? leaseholder = null, int lastLane = Lanes.Lane.LowestPriority) =>
        await Writer.Submit(PostgreSqlWalStatements.LeaseCall(partition, maxRecords, leaseholder, lastLane)).ConfigureAwait(false);

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<int, PendingLanes>> GetPendingLanesAsync(string sink, int partitionCount) =>
        PostgreSqlWalQueries.GetPendingLanesAsync(_database.DataSource, sink, partitionCount);

    /// <inheritdoc />
    public Task AckAsync(IReadOnlyList<WalRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        return Writer.Submit(PostgreSqlWalStatements.AckCall(records));
    }

    /// <inheritdoc />
    public Task<int> FailAsync(IReadOnlyList<WalRecord> records, DeliveryFailure failure)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(failure);
        return Writer.Submit(PostgreSqlWalStatements.FailCall(records, failure));
    }

    /// <inheritdoc />
    public Task<int> RecoverInFlightAsync(PartitionKey partition, long? leaseholder = null) =>
        Writer.Submit(PostgreSqlWalStatements.RecoverCall(partition, leaseholder));

    /// <inheritdoc />
    public Task<int> ClaimAsync(PartitionKey partition, long leaseholder) => Writer.Submit(PostgreSqlWalStatements.ClaimCall(partition, leaseholder));

    /// <inheritdoc />
    public Task<int> CompactAsync(DateTimeOffset cutoff, int limit) => Writer.Submit(PostgreSqlWalStatements.CompactCall(cutoff, limit));

    /// <inheritdoc />
    public Task<LaneChange> ExpireAsync(int lane, DateTimeOffset cutoff, int limit) => Writer.Submit(PostgreSqlWalStatements.ExpireCall(lane, cutoff, limit));

    /// <inheritdoc />
    public Task ProbeWriteAsync() => Writer.Submit(PostgreSqlWalStatements.ProbeCall(_node));

    /// <inheritdoc />
    public Task<DeadLetterChange> ReplayDeadAsync(DeadLetterFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return Writer.Submit(PostgreSqlWalStatements.ReplayDeadCall(filter));
    }

    /// <inheritdoc />
    public Task<int> PurgeDeadAsync(DeadLetterFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return Writer.Submit(PostgreSqlWalStatements.PurgeDeadCall(filter));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DeadLetter>> ListDeadAsync(DeadLetterFilter filter, long after, int limit)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await using var command = _database.DataSource.CreateCommand();
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var sql = new System.Text.StringBuilder(
            "SELECT d.id, m.message_id, m.device_id, m.device_sequence, d.sink, d.attempts, d.first_error, d.last_error, m.received_at, d.updated_at " +
            "FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq WHERE d.state = 3 AND d.id > $1");
        PostgreSqlDeadLetterQuery.Append(sql, command.Parameters, filter);
        sql.Append(" ORDER BY d.id LIMIT $2");
        command.CommandText = sql.ToString();
        var dead = new List<DeadLetter>();
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            dead.Add(new DeadLetter(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(4), reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9))));
        }

        return dead;
    }

    /// <inheritdoc />
    public Task<WalDeviceRecord> GetDeviceAsync(string deviceId) => PostgreSqlWalQueries.GetDeviceAsync(_database.DataSource, deviceId);

    /// <inheritdoc />
    public async Task<IReadOnlyList<RecentDeviceMessage>> GetRecentDeviceMessagesAsync(string deviceId, DateTimeOffset since, int limit)
    {
        await using var command = _database.DataSource.CreateCommand("""
            SELECT device_message_id, message_id, device_sequence, received_at FROM wal_message
            WHERE device_id = $1 AND device_message_id IS NOT NULL AND received_at >= $2
            ORDER BY device_sequence DESC
            LIMIT $3
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = deviceId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = since.ToUnixTimeMilliseconds() });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var recent = new List<RecentDeviceMessage>();
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            recent.Add(new RecentDeviceMessage(
                reader.GetString(0), reader.GetString(1), reader.GetInt64(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
        }

        return recent;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PartitionKey>> GetPendingPartitionsAsync()
    {
        await using var command = _database.DataSource.CreateCommand(SharedWalSql.PendingPartitions);
        var partitions = new List<PartitionKey>();
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            partitions.Add(new PartitionKey(reader.GetString(0), reader.GetInt32(1)));
        }

        return partitions;
    }

    /// <inheritdoc />
    public WalStatistics GetStatistics()
    {
        var totals = _writer?.Totals ?? default;
        return new WalStatistics(
            totals.Enqueued + totals.InFlight,
            totals.PendingBytes,
            _writer?.Transactions ?? 0,
            _writer?.Operations ?? 0,
            Interlocked.Read(ref _appendedMessages))
        {
            SyncedTransactions = _writer?.SyncedTransactions ?? 0,
            EnqueuedRecords = totals.Enqueued,
            InFlightRecords = totals.InFlight,
            AckedRecords = totals.Acked,
            DeadRecords = totals.Dead,
        };
    }

    /// <inheritdoc />
    public Task<MessageLifecycle?> GetMessageLifecycleAsync(string messageId) =>
        PostgreSqlWalQueries.GetMessageLifecycleAsync(_database.DataSource, messageId);

    /// <inheritdoc />
    public Task<IReadOnlyList<PartitionDepth>> GetPartitionDepthsAsync(string sink) =>
        PostgreSqlWalQueries.GetPartitionDepthsAsync(_database.DataSource, sink);

    /// <inheritdoc />
    public Task<DeviceDeliveryCounts> GetDeviceDeliveryCountsAsync(string deviceId) =>
        PostgreSqlWalQueries.GetDeviceDeliveryCountsAsync(_database.DataSource, deviceId);

    /// <inheritdoc />
    public Task RecordDeviceAsync(DeviceDirectoryEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return Writer.Submit(PostgreSqlWalStatements.RecordDeviceCall(entry));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<DeviceDirectoryEntry>> ListDevicesAsync(string? after, DateTimeOffset? seenSince, int limit) =>
        PostgreSqlWalQueries.ListDevicesAsync(_database.DataSource, after, seenSince, limit);

    /// <inheritdoc />
    public Task<WalStorage> GetStorageAsync() => PostgreSqlWalQueries.GetStorageAsync(_database.DataSource);

    /// <inheritdoc />
    public Task<IReadOnlyList<SinkBacklog>> GetSinkBacklogsAsync() => PostgreSqlWalQueries.GetSinkBacklogsAsync(_database.DataSource);

    /// <inheritdoc />
    public Task<IReadOnlyList<LaneBacklog>> GetLaneBacklogsAsync() => PostgreSqlWalQueries.GetLaneBacklogsAsync(_database.DataSource);

    /// <summary>Reads the cluster-wide totals now, through the writer (so they follow this node's own commits).</summary>
    /// <remarks>A read: nothing a caller was promised rests on it, so it never makes its commit wait for a sync.</remarks>
    public Task RefreshTotalsAsync() =>
        Writer.Submit(new PostgreSqlWalCall<bool>((_, _) => { }, _ => Task.FromResult((true, default(WalCounts))), isWork: false) { MustBeDurable = false });

    /// <summary>Commits what is queued and stops the writer.</summary>
    public void Dispose()
    {
        _refreshStop?.Cancel();
        try
        {
            _refresh?.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            // Stopped on purpose.
        }

        _refreshStop?.Dispose();
        _refreshStop = null;
        _writer?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _writer = null;
    }

    // Other nodes' commits change the totals too; an idle node would otherwise hold on to old ones.
    private async Task RefreshWhileOpenAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_clusterOptions.StatisticsRefreshInterval, _time);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await RefreshTotalsAsync().ConfigureAwait(false);
            }
            catch (Exception error) when (error is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // The writer already logged the failed commit; the next tick tries again.
            }
        }
    }

    private PostgreSqlWalWriter Writer => _writer ?? throw new InvalidOperationException("The WAL store is not open.");
}
