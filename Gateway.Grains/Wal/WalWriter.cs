using System.Diagnostics;
using System.Threading.Channels;
using Gateway.Partitions;
using Gateway.Storage;
using Gateway.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Gateway.Wal;

/// <summary>
/// Group commit: one thread owns the only writing connection, drains whatever operations are queued
/// (up to <see cref="WalOptions.MaxBatchOperations"/>), runs them in one transaction and commits once,
/// so a disk sync is shared by every caller that arrived while the previous commit was running.
/// </summary>
internal sealed partial class WalWriter : IDisposable
{
    private const string OperationSavepoint = "op";

    private readonly Channel<WalOperation> _queue =
        Channel.CreateUnbounded<WalOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnection _connection;
    private readonly WalCommands _commands;
    private readonly int _maxBatchOperations;
    private readonly TimeProvider _time;
    private readonly Action<IReadOnlyCollection<PartitionKey>> _onPartitionsWoken;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private long _transactions;
    private long _operations;

    public WalWriter(
        SqliteDatabase database,
        int maxBatchOperations,
        TimeProvider time,
        Action<IReadOnlyCollection<PartitionKey>> onPartitionsWoken,
        GatewayMetrics metrics,
        ILogger logger)
    {
        _connection = database.Open();
        _commands = new WalCommands(_connection);
        _maxBatchOperations = maxBatchOperations;
        _time = time;
        _onPartitionsWoken = onPartitionsWoken;
        _metrics = metrics;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "wal-writer" };
        _thread.Start();
    }

    /// <summary>Transactions committed since start.</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    /// <summary>Operations committed since start.</summary>
    public long Operations => Interlocked.Read(ref _operations);

    /// <summary>Queues <paramref name="operation"/>; its task completes after the commit that holds it.</summary>
    public Task<T> Submit<T>(WalOperation<T> operation)
    {
        if (!_queue.Writer.TryWrite(operation))
        {
            operation.Fail(new ObjectDisposedException(nameof(WalWriter), "The WAL writer has stopped."));
        }

        return operation.Task;
    }

    /// <summary>Stops taking operations, commits what is queued, and closes the connection.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _thread.Join();
        _commands.Dispose();
        _connection.Dispose();
    }

    private void Run()
    {
        var batch = new List<WalOperation>(_maxBatchOperations);
        var woken = new HashSet<PartitionKey>();
        while (WaitForWork())
        {
            while (batch.Count < _maxBatchOperations && _queue.Reader.TryRead(out var operation))
            {
                batch.Add(operation);
            }

            if (Commit(batch))
            {
                foreach (var operation in batch)
                {
                    operation.AddWokenPartitions(woken);
                }

                if (woken.Count > 0)
                {
                    NotifyWoken(woken);
                    woken.Clear();
                }
            }

            batch.Clear();
        }
    }

    private bool WaitForWork()
    {
        var wait = _queue.Reader.WaitToReadAsync();
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    private bool Commit(List<WalOperation> batch)
    {
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var started = Stopwatch.GetTimestamp();
        var failed = new bool[batch.Count];
        try
        {
            using var transaction = _connection.BeginTransaction(deferred: false);
            _commands.Enlist(transaction);
            for (var i = 0; i < batch.Count; i++)
            {
                // A savepoint per operation: one operation's error does not undo the others'.
                transaction.Save(OperationSavepoint);
                try
                {
                    batch[i].Execute(_commands, nowMs);
                    transaction.Release(OperationSavepoint);
                }
                catch (SqliteException error) when (!IsFatal(error))
                {
                    transaction.Rollback(OperationSavepoint);
                    transaction.Release(OperationSavepoint);
                    failed[i] = true;
                    batch[i].Fail(error);
                }
            }

            transaction.Commit();
        }
        catch (Exception error)
        {
            LogCommitFailed(_logger, error, batch.Count);
            _metrics.GroupCommitFailed();
            for (var i = 0; i < batch.Count; i++)
            {
                if (!failed[i])
                {
                    batch[i].Fail(error);
                }
            }

            return false;
        }

        var duration = Stopwatch.GetElapsedTime(started);
        Interlocked.Increment(ref _transactions);
        Interlocked.Add(ref _operations, batch.Count);
        _metrics.GroupCommitted(batch.Count, duration);
        for (var i = 0; i < batch.Count; i++)
        {
            if (!failed[i])
            {
                batch[i].CommitOperations = batch.Count;
                batch[i].CommitDuration = duration;
                batch[i].Complete();
            }
        }

        return true;
    }

    private void NotifyWoken(HashSet<PartitionKey> woken)
    {
        try
        {
            _onPartitionsWoken(woken);
        }
        catch (Exception error)
        {
            // Waking is an optimisation; reminders and startup recovery still find the records.
            LogWakeFailed(_logger, error);
        }
    }

    // Errors of the database itself (disk full, I/O, corruption) end the whole transaction.
    private static bool IsFatal(SqliteException error) =>
        (error.SqliteErrorCode & 0xFF) is 10 /* IOERR */ or 11 /* CORRUPT */ or 13 /* FULL */ or 26 /* NOTADB */;

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "WAL commit of {OperationCount} operations failed; none of them is durable")]
    private static partial void LogCommitFailed(ILogger logger, Exception error, int operationCount);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Waking partitions after a WAL commit failed")]
    private static partial void LogWakeFailed(ILogger logger, Exception error);
}
