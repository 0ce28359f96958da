using System.Text;
using Gateway.DeadLetters;
using System.Diagnostics;
using Gateway.Partitions;
using Gateway.Storage;
using Gateway.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Wal;

/// <summary>
/// The WAL in the gateway's SQLite file. Mutations go through the group-commit <see cref="WalWriter"/>;
/// reads use their own pooled connections, which WAL journal mode never blocks.
/// </summary>
public sealed class SqliteWalStore : IOpenableWalStore
{
    private readonly SqliteDatabase _database;
    private readonly WalOptions _options;
    private readonly TimeProvider _time;
    private readonly IWalCommitListener _listener;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<SqliteWalStore> _logger;
    private WalWriter? _writer;
    private long _enqueuedRecords;
    private long _inFlightRecords;
    private long _ackedRecords;
    private long _deadRecords;
    private long _pendingBytes;
    private long _appendedMessages;

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
        using (var connection = _database.Open())
        using (var count = connection.CreateCommand())
        {
            // Counted once here, then kept up to date by every committed operation, so metrics and
            // backpressure never scan the tables.
            count.CommandText = """
                SELECT d.state, count(*), coalesce(sum(CASE WHEN d.state IN (0, 1) THEN length(m.payload) END), 0)
                FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq
                GROUP BY d.state
                """;
            using var reader = count.ExecuteReader();
            while (reader.Read())
            {
                var records = reader.GetInt64(1);
                _pendingBytes += reader.GetInt64(2);
                switch ((DeliveryState)reader.GetInt32(0))
                {
                    case DeliveryState.Enqueued: _enqueuedRecords = records; break;
                    case DeliveryState.InFlight: _inFlightRecords = records; break;
                    case DeliveryState.Acked: _ackedRecords = records; break;
                    case DeliveryState.Dead: _deadRecords = records; break;
                }
            }
        }

        _writer = new WalWriter(_database, _options.MaxBatchOperations, _time, _listener.OnPartitionsWoken, _metrics, _logger);
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
    public async Task<IReadOnlyList<WalRecord>> LeaseAsync(PartitionKey partition, int maxRecords)
    {
        var records = await Writer.Submit(new WalCall<List<WalRecord>>((commands, now) => commands.Lease(partition, maxRecords, now)))
            .ConfigureAwait(false);
        Interlocked.Add(ref _enqueuedRecords, -records.Count);
        Interlocked.Add(ref _inFlightRecords, records.Count);
        return records;
    }

    /// <inheritdoc />
    public async Task AckAsync(IReadOnlyList<WalRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        // Counted by what the update changed: a record recovered meanwhile was not acked here.
        var (acked, bytes) = await Writer.Submit(
            new WalCall<(int, long)>((commands, now) => commands.MarkAcked(records, now))).ConfigureAwait(false);
        Interlocked.Add(ref _inFlightRecords, -acked);
        Interlocked.Add(ref _ackedRecords, acked);
        Interlocked.Add(ref _pendingBytes, -bytes);
    }

    /// <inheritdoc />
    public async Task<int> FailAsync(IReadOnlyList<WalRecord> records, DeliveryFailure failure)
    {
        var (requeued, dead, deadBytes) = await Writer.Submit(
            new WalCall<(int, int, long)>((commands, now) => commands.MarkFailed(records, failure, now))).ConfigureAwait(false);
        Interlocked.Add(ref _inFlightRecords, -(requeued + dead));
        Interlocked.Add(ref _enqueuedRecords, requeued);
        Interlocked.Add(ref _deadRecords, dead);
        Interlocked.Add(ref _pendingBytes, -deadBytes);
        return dead;
    }

    /// <inheritdoc />
    public async Task<int> RecoverInFlightAsync(PartitionKey partition)
    {
        var recovered = await Writer.Submit(new WalCall<int>((commands, now) => commands.RecoverInFlight(partition, now))).ConfigureAwait(false);
        Interlocked.Add(ref _inFlightRecords, -recovered);
        Interlocked.Add(ref _enqueuedRecords, recovered);
        return recovered;
    }

    /// <inheritdoc />
    public async Task<int> CompactAsync(DateTimeOffset cutoff, int limit)
    {
        var deleted = await Writer.Submit(new WalCall<int>((commands, _) => commands.DeleteAcked(cutoff.ToUnixTimeMilliseconds(), limit))).ConfigureAwait(false);
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
        DeadLetterQuery.Append(sql, command, filter);
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
        var change = await Writer.Submit(new WalCall<DeadLetterChange>((commands, now) => commands.ReplayDead(filter, now))).ConfigureAwait(false);
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
    public Task<long> GetLastSequenceAsync(string deviceId)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT last_sequence FROM wal_device WHERE device_id = $device_id";
        command.Parameters.AddWithValue("$device_id", deviceId);
        return Task.FromResult(command.ExecuteScalar() is long sequence ? sequence : 0L);
    }

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
        command.CommandText = """
            SELECT DISTINCT sink, partition FROM wal_delivery WHERE state = 0
            UNION
            SELECT DISTINCT sink, partition FROM wal_delivery WHERE state = 1
            """;
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
            Interlocked.Read(ref _pendingBytes),
            _writer?.Transactions ?? 0,
            _writer?.Operations ?? 0,
            Interlocked.Read(ref _appendedMessages))
        {
            EnqueuedRecords = enqueued,
            InFlightRecords = inFlight,
            AckedRecords = Interlocked.Read(ref _ackedRecords),
            DeadRecords = Interlocked.Read(ref _deadRecords),
        };
    }

    /// <summary>Commits what is queued and stops the writer.</summary>
    public void Dispose()
    {
        _writer?.Dispose();
        _writer = null;
        SqliteConnection.ClearPool(new SqliteConnection(_database.ConnectionString));
    }

    private WalWriter Writer => _writer ?? throw new InvalidOperationException("The WAL store is not open.");
}
