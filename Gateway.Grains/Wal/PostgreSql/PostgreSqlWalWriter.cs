using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Gateway.Cluster;
using Gateway.Partitions;
using Gateway.Telemetry;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gateway.Wal.PostgreSql;

/// <summary>
/// Group commit on PostgreSQL, per node: one loop drains whatever operations are queued (up to
/// <see cref="WalOptions.MaxBatchOperations"/>), sends all their statements in one <see cref="NpgsqlBatch"/>
/// inside one transaction, adds the commit's count changes to this node's counter row and reads the cluster's
/// totals, and commits once. Every caller that arrived while the previous commit ran shares the next one.
/// </summary>
internal sealed partial class PostgreSqlWalWriter : IAsyncDisposable
{
    private readonly Channel<PostgreSqlWalOperation> _queue =
        Channel.CreateUnbounded<PostgreSqlWalOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly PostgreSqlDatabase _database;
    private readonly string _node;
    private readonly int _maxBatchOperations;
    private readonly TimeProvider _time;
    private readonly Action<IReadOnlyCollection<PartitionKey>> _onPartitionsWoken;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private StrongBox<WalCounts> _totals = new();
    private long _transactions;
    private long _syncedTransactions;
    private long _operations;

    public PostgreSqlWalWriter(
        PostgreSqlDatabase database,
        string node,
        int maxBatchOperations,
        TimeProvider time,
        Action<IReadOnlyCollection<PartitionKey>> onPartitionsWoken,
        GatewayMetrics metrics,
        ILogger logger)
    {
        _database = database;
        _node = node;
        _maxBatchOperations = maxBatchOperations;
        _time = time;
        _onPartitionsWoken = onPartitionsWoken;
        _metrics = metrics;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Cluster-wide delivery counts as of this node's last commit.</summary>
    public WalCounts Totals => Volatile.Read(ref _totals).Value;

    /// <summary>Transactions of work this node committed since start.</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    /// <summary>Of <see cref="Transactions"/>, those committed synchronously (one of their operations had to be durable).</summary>
    public long SyncedTransactions => Interlocked.Read(ref _syncedTransactions);

    /// <summary>Operations those transactions carried.</summary>
    public long Operations => Interlocked.Read(ref _operations);

    /// <summary>Queues <paramref name="operation"/>; its task completes after the commit that holds it.</summary>
    public Task<T> Submit<T>(PostgreSqlWalCall<T> operation)
    {
        if (!_queue.Writer.TryWrite(operation))
        {
            operation.Fail(new ObjectDisposedException(nameof(PostgreSqlWalWriter), "The WAL writer has stopped."));
        }

        return operation.Task;
    }

    /// <summary>Stops taking operations and commits what is queued.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var batch = new List<PostgreSqlWalOperation>(_maxBatchOperations);
        var woken = new HashSet<PartitionKey>();
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < _maxBatchOperations && _queue.Reader.TryRead(out var operation))
            {
                batch.Add(operation);
            }

            await CommitAsync(batch, woken).ConfigureAwait(false);
            if (woken.Count > 0)
            {
                NotifyWoken(woken);
                woken.Clear();
            }

            batch.Clear();
        }
    }

    private async Task CommitAsync(List<PostgreSqlWalOperation> batch, HashSet<PartitionKey> woken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var synced = await ExecuteAsync(batch).ConfigureAwait(false);
            Committed(batch, woken, Stopwatch.GetElapsedTime(started), synced);
        }
        catch (PostgresException error) when (batch.Count > 1 && !IsFatal(error))
        {
            // One statement failed and took the group's transaction with it: run each operation on its own,
            // so only the one at fault fails (the SQLite writer gets the same from a savepoint per operation).
            LogGroupRetried(_logger, error, batch.Count);
            foreach (var operation in batch)
            {
                started = Stopwatch.GetTimestamp();
                try
                {
                    var synced = await ExecuteAsync([operation]).ConfigureAwait(false);
                    Committed([operation], woken, Stopwatch.GetElapsedTime(started), synced);
                }
                catch (Exception single)
                {
                    Failed([operation], single);
                }
            }
        }
        catch (Exception error)
        {
            Failed(batch, error);
        }
    }

    /// <returns>Whether the transaction committed synchronously (one of its operations had to be durable).</returns>
    private async Task<bool> ExecuteAsync(List<PostgreSqlWalOperation> batch)
    {
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await _database.DataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
        var synchronous = AnyMustBeDurable(batch);
        if (!synchronous)
        {
            await using var asynchronous = new NpgsqlCommand("SET LOCAL synchronous_commit = off", connection, transaction);
            await asynchronous.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        var delta = default(WalCounts);
        await using (var statements = new NpgsqlBatch(connection, transaction))
        {
            foreach (var operation in batch)
            {
                operation.AddCommands(statements.BatchCommands, nowMs);
            }

            if (statements.BatchCommands.Count > 0)
            {
                await using var reader = await statements.ExecuteReaderAsync().ConfigureAwait(false);
                var results = new BatchResults(reader);
                foreach (var operation in batch)
                {
                    await operation.ReadAsync(results).ConfigureAwait(false);
                    delta += operation.Delta;
                }
            }
        }

        // The counts change in the same transaction as the rows they count, so they are exact on every node.
        var counts = PostgreSqlWalStatements.CountsCall(_node, delta);
        await using (var statements = new NpgsqlBatch(connection, transaction))
        {
            counts.AddCommands(statements.BatchCommands, nowMs);
            await using var reader = await statements.ExecuteReaderAsync().ConfigureAwait(false);
            await counts.ReadAsync(new BatchResults(reader)).ConfigureAwait(false);
        }

        await CommitAsync(connection, transaction, synchronous).ConfigureAwait(false);
        counts.Complete();
        // Replaced whole, so a reader never sees half of one commit's totals and half of another's.
        Volatile.Write(ref _totals, new StrongBox<WalCounts>(await counts.Task.ConfigureAwait(false)));
        return synchronous;
    }

    // A synchronous commit waits for the synchronous standby. When that wait is cancelled (the connection string's
    // Command Timeout makes Npgsql cancel it, as does pg_cancel_backend), PostgreSQL keeps the commit on the primary
    // alone and still answers success, with a WARNING: "canceling wait for synchronous replication". A commit that
    // warns is therefore not durable as promised, and nothing of it may be acknowledged. The text is localized, so
    // any warning during a synchronous commit counts; a false alarm costs a retransmission, never a message.
    private static async Task CommitAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, bool synchronous)
    {
        string? warning = null;
        void Watch(object sender, NpgsqlNoticeEventArgs args)
        {
            if (args.Notice.InvariantSeverity == "WARNING")
            {
                warning ??= args.Notice.MessageText;
            }
        }

        if (synchronous)
        {
            connection.Notice += Watch;
        }

        try
        {
            await transaction.CommitAsync().ConfigureAwait(false);
        }
        finally
        {
            connection.Notice -= Watch;
        }

        if (warning is not null)
        {
            throw new WalCommitNotConfirmedException(warning);
        }
    }

    private void Committed(List<PostgreSqlWalOperation> batch, HashSet<PartitionKey> woken, TimeSpan duration, bool synced)
    {
        var work = 0;
        foreach (var operation in batch)
        {
            work += operation.IsWork ? 1 : 0;
        }

        if (work > 0)
        {
            Interlocked.Increment(ref _transactions);
            if (synced)
            {
                Interlocked.Increment(ref _syncedTransactions);
            }

            Interlocked.Add(ref _operations, work);
            _metrics.GroupCommitted(work, duration);
        }

        foreach (var operation in batch)
        {
            operation.Complete();
            operation.AddWokenPartitions(woken);
        }
    }

    private static bool AnyMustBeDurable(List<PostgreSqlWalOperation> batch)
    {
        foreach (var operation in batch)
        {
            if (operation.MustBeDurable)
            {
                return true;
            }
        }

        return false;
    }

    private void Failed(List<PostgreSqlWalOperation> batch, Exception error)
    {
        LogCommitFailed(_logger, error, batch.Count);
        _metrics.GroupCommitFailed();
        foreach (var operation in batch)
        {
            operation.Fail(error);
        }
    }

    private void NotifyWoken(HashSet<PartitionKey> woken)
    {
        try
        {
            _onPartitionsWoken(woken);
        }
        catch (Exception error)
        {
            // Waking is an optimisation; reminders and the start-up and failover wake-ups still find the records.
            LogWakeFailed(_logger, error);
        }
    }

    // Errors of the server or the connection (not of one statement) would fail every operation alike.
    private static bool IsFatal(PostgresException error) =>
        error.SqlState.StartsWith("08", StringComparison.Ordinal)       // connection exception
        || error.SqlState.StartsWith("53", StringComparison.Ordinal)    // insufficient resources (disk full)
        || error.SqlState.StartsWith("57", StringComparison.Ordinal)    // operator intervention (shutdown)
        || error.SqlState.StartsWith("58", StringComparison.Ordinal);   // system error (I/O)

    [LoggerMessage(EventId = 7101, Level = LogLevel.Error, Message = "WAL commit of {OperationCount} operations on PostgreSQL failed; none of them is durable")]
    private static partial void LogCommitFailed(ILogger logger, Exception error, int operationCount);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Warning, Message = "Waking partitions after a WAL commit failed")]
    private static partial void LogWakeFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Warning, Message = "A statement in a group of {OperationCount} WAL operations failed; committing them one at a time")]
    private static partial void LogGroupRetried(ILogger logger, Exception error, int operationCount);
}
