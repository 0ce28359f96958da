using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Gateway.Partitions;
using Gateway.Storage;
using Gateway.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Gateway.Wal.Sqlite;

/// <summary>
/// Group commit: one thread owns the only writing connection, drains whatever operations are queued
/// (up to <see cref="WalOptions.MaxBatchOperations"/>), runs them in one transaction and commits once,
/// so a disk sync is shared by every caller that arrived while the previous commit was running. A commit
/// syncs (<c>synchronous=FULL</c>) only when one of its operations <see cref="SqliteWalOperation.MustBeDurable"/>;
/// the others commit with <c>synchronous=NORMAL</c>, which in WAL journal mode keeps the log consistent and in
/// order but leaves the sync to the next durable commit or checkpoint: a power cut can take back only the newest
/// such commits, never one before a synced commit.
/// </summary>
internal sealed partial class SqliteWalWriter : IDisposable
{
    private const string OperationSavepoint = "op";
    private const string RowsSavepoint = "rows";
    private const string IndexSavepoint = "index";
    private const int MaxOperationsSettledOnWriter = 8;

    private readonly Channel<SqliteWalOperation> _queue =
        Channel.CreateUnbounded<SqliteWalOperation>(new UnboundedChannelOptions { SingleReader = true });

    // The writer sleeps on this between commits. No spinning: at the rates a Pi sees, operations arrive milliseconds
    // apart, and a spinning wait (Task.Wait, SemaphoreSlim) burned more CPU per message than the commit itself.
    private readonly ManualResetEventSlim _work = new(false, spinCount: 0);
    private readonly SqliteConnection _connection;
    private readonly SqliteWalCommands _commands;
    private readonly SqliteCommand _syncFull;
    private readonly SqliteCommand _syncNormal;
    private bool _syncing = true;
    private readonly int _maxBatchOperations;
    private readonly CommitLinger _linger;
    private readonly TimeProvider _time;
    private readonly Action<IReadOnlyCollection<PartitionKey>> _onPartitionsWoken;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private readonly UnwrittenDeliveries _unwritten = new();
    private readonly UnindexedMessages _unindexed = new();
    private long _transactions;
    private long _syncedTransactions;
    private long _operations;

    public SqliteWalWriter(
        SqliteDatabase database,
        int maxBatchOperations,
        CommitLinger linger,
        TimeProvider time,
        Action<IReadOnlyCollection<PartitionKey>> onPartitionsWoken,
        GatewayMetrics metrics,
        ILogger logger)
    {
        _connection = database.Open();
        _commands = new SqliteWalCommands(_connection);
        _syncFull = Pragma("PRAGMA synchronous=FULL");
        _syncNormal = Pragma("PRAGMA synchronous=NORMAL");
        _maxBatchOperations = maxBatchOperations;
        _linger = linger;
        _time = time;
        _onPartitionsWoken = onPartitionsWoken;
        _metrics = metrics;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "wal-writer" };
        _thread.Start();
    }

    /// <summary>Transactions committed since start.</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    /// <summary>Of <see cref="Transactions"/>, those that synced the log to disk before they completed.</summary>
    public long SyncedTransactions => Interlocked.Read(ref _syncedTransactions);

    /// <summary>Operations committed since start.</summary>
    public long Operations => Interlocked.Read(ref _operations);

    /// <summary>Deliveries of committed appends whose rows are not written yet (<see cref="Sqlite.UnwrittenDeliveries"/>).</summary>
    public int UnwrittenDeliveries => _unwritten.Count;

    /// <summary>Queues <paramref name="operation"/>; its task completes after the commit that holds it.</summary>
    public Task<T> Submit<T>(SqliteWalOperation<T> operation)
    {
        operation.CallerHasScheduler = TaskScheduler.Current != TaskScheduler.Default;
        if (!_queue.Writer.TryWrite(operation))
        {
            operation.Error = new ObjectDisposedException(nameof(SqliteWalWriter), "The WAL writer has stopped.");
            operation.Settle();
        }
        else
        {
            _work.Set();
        }

        return operation.Task;
    }

    /// <summary>Stops taking operations, commits what is queued, and closes the connection.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _work.Set();
        _thread.Join();
        _commands.Dispose();
        _syncFull.Dispose();
        _syncNormal.Dispose();
        _connection.Dispose();
        _work.Dispose();
    }

    private void Run()
    {
        var batch = new List<SqliteWalOperation>(_maxBatchOperations);
        while (WaitForWork())
        {
            Take(batch);
            var durable = DurableOperations(batch);
            if (durable > 0 && _linger.WaitFor(batch.Count) is { Ticks: > 0 } linger)
            {
                // A plain sleep, not a wait on the event: each arriving append would wake the writer again.
                Thread.Sleep(linger);
                Take(batch);
                durable = DurableOperations(batch);
            }

            var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
            _linger.Observe(durable, nowMs);
            var committed = Commit(batch, nowMs, sync: durable > 0);
            if (committed)
            {
                foreach (var operation in batch)
                {
                    if (operation.Error is null)
                    {
                        operation.Committed(_unwritten, _unindexed, nowMs);
                    }
                }
            }

            var settled = new SettledCommit(batch.ToArray(), committed, this);
            if (SettlesOnWriter(batch))
            {
                settled.Settle();
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(static commit => commit.Settle(), settled, preferLocal: false);
            }

            batch.Clear();
        }
    }

    private void Take(List<SqliteWalOperation> batch)
    {
        while (batch.Count < _maxBatchOperations && _queue.Reader.TryRead(out var operation))
        {
            batch.Add(operation);
        }
    }

    private static int DurableOperations(List<SqliteWalOperation> batch)
    {
        var durable = 0;
        foreach (var operation in batch)
        {
            if (operation.MustBeDurable)
            {
                durable++;
            }
        }

        return durable;
    }

    /// <returns>False once the queue is completed and empty.</returns>
    private bool WaitForWork()
    {
        while (!_queue.Reader.TryPeek(out _))
        {
            if (_queue.Reader.Completion.IsCompleted)
            {
                return false;
            }

            // Reset, then look again: an operation submitted between the look and the reset has set the event already.
            _work.Reset();
            if (_queue.Reader.TryPeek(out _) || _queue.Reader.Completion.IsCompleted)
            {
                continue;
            }

            _work.Wait();
        }

        return true;
    }

    private SqliteCommand Pragma(string sql)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    /// <summary>Sets the connection's sync level for the next commit, when it differs from the last one's.</summary>
    private void SyncNextCommit(bool sync)
    {
        if (sync != _syncing)
        {
            (sync ? _syncFull : _syncNormal).ExecuteNonQuery();
            _syncing = sync;
        }
    }

    /// <summary>
    /// Runs and commits <paramref name="batch"/> in one transaction. Operations run without savepoints; only if
    /// one of them fails on its own (a constraint or a bad value, not the database) is the transaction rolled back and the batch
    /// run again with a savepoint around each operation, so that one operation's error undoes none of the others.
    /// Sets each operation's <see cref="SqliteWalOperation.Error"/>; returns whether the transaction committed.
    /// </summary>
    /// <param name="sync">Whether an operation of the batch must be durable, so the commit syncs.</param>
    private bool Commit(List<SqliteWalOperation> batch, long nowMs, bool sync)
    {
        var started = Stopwatch.GetTimestamp();
        var work = new CommitWork(WritesDeliveryRows(batch, sync), _unindexed.Due(nowMs, sync));
        CommitOutcome outcome;
        try
        {
            SyncNextCommit(sync);
            if (!TryCommit(batch, nowMs, work, isolateOperations: false, out outcome))
            {
                TryCommit(batch, nowMs, work, isolateOperations: true, out outcome);
            }
        }
        catch (Exception error)
        {
            LogCommitFailed(_logger, error, batch.Count);
            _metrics.GroupCommitFailed();
            foreach (var operation in batch)
            {
                operation.Error ??= error;
            }

            return false;
        }

        _unwritten.Written(outcome.MessagesWritten);
        if (outcome.Indexed)
        {
            _unindexed.Indexed();
        }

        var duration = Stopwatch.GetElapsedTime(started);
        Interlocked.Increment(ref _transactions);
        if (sync)
        {
            Interlocked.Increment(ref _syncedTransactions);
        }

        Interlocked.Add(ref _operations, batch.Count);
        _metrics.GroupCommitted(batch.Count, duration);
        foreach (var operation in batch)
        {
            operation.CommitOperations = batch.Count;
            operation.CommitDuration = duration;
        }

        return true;
    }

    /// <summary>
    /// Whether the commit of <paramref name="batch"/> writes the unwritten delivery rows: a commit that does not sync (its
    /// pages become durable with the next synced one anyway, and the rows of many appends share them), one that an
    /// operation asks to, or any once too many are waiting.
    /// </summary>
    private bool WritesDeliveryRows(List<SqliteWalOperation> batch, bool sync)
    {
        var unwritten = _unwritten.Count;
        if (unwritten == 0)
        {
            return false;
        }

        if (!sync || unwritten >= Sqlite.UnwrittenDeliveries.MaxUnwritten)
        {
            return true;
        }

        foreach (var operation in batch)
        {
            if (operation.WritesDeliveryRows)
            {
                return true;
            }
        }

        return false;
    }

    /// <param name="outcome">What the transaction wrote of the work that follows committed appends.</param>
    /// <returns>False when an operation failed without savepoints: the transaction was rolled back, nothing committed.</returns>
    private bool TryCommit(List<SqliteWalOperation> batch, long nowMs, CommitWork work, bool isolateOperations, out CommitOutcome outcome)
    {
        outcome = default;
        var messagesWritten = 0;
        using var transaction = _connection.BeginTransaction(deferred: false);
        _commands.Enlist(transaction);
        if (work.DeliveryRows)
        {
            var messages = new StrongBox<int>();
            if (!Run(transaction, RowsSavepoint, isolateOperations, (writer: this, nowMs, messages), static state => state.messages.Value = state.writer._unwritten.Write(state.writer._commands, state.nowMs), out var failed))
            {
                return false;
            }

            if (failed is null)
            {
                messagesWritten = messages.Value;
            }
            else
            {
                // The operations still commit; the rows are tried again with the next commit.
                LogRowsFailed(_logger, failed);
            }
        }

        var indexed = false;
        if (work.DeviceIndex)
        {
            // Before the batch's own appends, which join the next tail.
            if (!Run(transaction, IndexSavepoint, isolateOperations, _commands, static commands => commands.IndexDeviceMessages(), out var failed))
            {
                return false;
            }

            indexed = failed is null;
            if (failed is not null)
            {
                LogIndexFailed(_logger, failed);
            }
        }

        foreach (var operation in batch)
        {
            operation.Error = null;
            if (!Run(transaction, OperationSavepoint, isolateOperations, (operation, _commands, nowMs), static state => state.operation.Execute(state._commands, state.nowMs), out var failed))
            {
                return false;
            }

            operation.Error = failed;
        }

        transaction.Commit();
        outcome = new CommitOutcome(messagesWritten, indexed);
        return true;
    }

    /// <summary>What a commit writes for earlier appends besides its operations: their delivery rows, their device index entries.</summary>
    private readonly record struct CommitWork(bool DeliveryRows, bool DeviceIndex);

    /// <param name="MessagesWritten">Of <see cref="Sqlite.UnwrittenDeliveries"/>, how many messages' rows the transaction wrote.</param>
    /// <param name="Indexed">Whether it indexed the tail (<see cref="UnindexedMessages"/>).</param>
    private readonly record struct CommitOutcome(int MessagesWritten, bool Indexed);

    /// <summary>
    /// Runs <paramref name="work"/> in <paramref name="transaction"/>. Without isolation a failure rolls the whole
    /// transaction back (returns false); with it, only the savepoint around the work, and <paramref name="failed"/> says
    /// why. Errors of the database itself are thrown.
    /// </summary>
    private static bool Run<TState>(SqliteTransaction transaction, string savepoint, bool isolate, TState state, Action<TState> work, out Exception? failed)
    {
        failed = null;
        if (isolate)
        {
            transaction.Save(savepoint);
        }

        try
        {
            work(state);
            if (isolate)
            {
                transaction.Release(savepoint);
            }

            return true;
        }
        catch (Exception error) when (error is not SqliteException sqlite || !IsFatal(sqlite))
        {
            if (!isolate)
            {
                transaction.Rollback();
                return false;
            }

            transaction.Rollback(savepoint);
            transaction.Release(savepoint);
            failed = error;
            return true;
        }
    }

    /// <summary>
    /// Whether the writer settles <paramref name="batch"/> itself instead of handing it to the thread pool: a small
    /// commit whose callers all awaited from a scheduler of their own (grain code). Their continuations are then only
    /// queued to that scheduler, never run on the writer thread, so the hand-off would cost a thread wake-up per commit
    /// (most of the commits at a Pi's rates carry one or two operations) and buy nothing. A large commit is handed off,
    /// so its many settlements and wake-ups leave the writer free for the next one.
    /// </summary>
    private static bool SettlesOnWriter(List<SqliteWalOperation> batch)
    {
        if (batch.Count > MaxOperationsSettledOnWriter)
        {
            return false;
        }

        foreach (var operation in batch)
        {
            if (!operation.CallerHasScheduler)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The outcome of one commit, settled in one go: by the writer itself (see <see cref="SettlesOnWriter"/>) or in one
    /// thread-pool work item, so that a caller without a scheduler of its own never continues on the writer thread and a
    /// commit of many operations costs one hand-off instead of one per operation.
    /// </summary>
    private sealed class SettledCommit(SqliteWalOperation[] operations, bool committed, SqliteWalWriter writer)
    {
        public void Settle()
        {
            foreach (var operation in operations)
            {
                operation.Settle();
            }

            if (committed)
            {
                writer.WakePartitions(operations);
            }
        }
    }

    private void WakePartitions(SqliteWalOperation[] operations)
    {
        var woken = new HashSet<PartitionKey>();
        foreach (var operation in operations)
        {
            if (operation.Error is null)
            {
                operation.AddWokenPartitions(woken);
            }
        }

        if (woken.Count == 0)
        {
            return;
        }

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

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Writing the delivery rows of committed appends failed; they are tried again with the next commit")]
    private static partial void LogRowsFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Error, Message = "Indexing the messages of committed appends by device failed; they are tried again with a later commit")]
    private static partial void LogIndexFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Waking partitions after a WAL commit failed")]
    private static partial void LogWakeFailed(ILogger logger, Exception error);
}
