using Gateway.Partitions;

namespace Gateway.Wal.Sqlite;

/// <summary>
/// One unit of work for the group-commit writer. It runs inside a transaction shared with other
/// operations, and its caller's task completes only after that transaction has committed.
/// </summary>
internal abstract class SqliteWalOperation
{
    /// <summary>
    /// Whether the caller relies on the operation surviving a power cut once its task completes: an append (the
    /// device is acknowledged next), an operator's replay or purge, the readiness probe, a partition's claim. The
    /// egress bookkeeping (lease, ack, failure, recovery, compaction) does not: losing its last commits only sends
    /// records again, which at-least-once delivery allows. A commit syncs only when one of its operations must be durable.
    /// </summary>
    public bool MustBeDurable { get; init; } = true;

    /// <summary>
    /// Whether the caller needs every committed append's delivery rows written (<see cref="UnwrittenDeliveries"/>) by the
    /// commit that holds this operation: a lease or a read of the delivery table.
    /// </summary>
    public bool WritesDeliveryRows { get; init; }

    /// <summary>
    /// Whether the caller submitted from a task scheduler of its own (a grain's), so that its continuation is queued
    /// there whichever thread settles the operation. Set by the writer at submission.
    /// </summary>
    public bool CallerHasScheduler { get; set; }

    /// <summary>How many operations the commit that held this one carried (set before completion).</summary>
    public int CommitOperations { get; set; }

    /// <summary>How long that commit took (set before completion).</summary>
    public TimeSpan CommitDuration { get; set; }

    /// <summary>
    /// Why the operation failed (it or its transaction): nothing of it is durable. Null once committed.
    /// Set by the writer before <see cref="Settle"/>.
    /// </summary>
    public Exception? Error { get; set; }

    /// <summary>Runs the operation's statements inside the writer's current transaction.</summary>
    public abstract void Execute(SqliteWalCommands commands, long nowMs);

    /// <summary>
    /// Hands the caller its result, or <see cref="Error"/>. Its continuations run inline, so the writer calls
    /// this off its own thread (see <see cref="SqliteWalWriter"/>).
    /// </summary>
    public abstract void Settle();

    /// <summary>
    /// Runs on the writer thread once the commit that holds this operation has succeeded, before it is settled: an append
    /// hands over what later commits write for it.
    /// </summary>
    public virtual void Committed(UnwrittenDeliveries unwritten, UnindexedMessages unindexed, long nowMs)
    {
    }

    /// <summary>Adds the partitions that have new work once this operation is committed.</summary>
    public virtual void AddWokenPartitions(HashSet<PartitionKey> partitions)
    {
    }
}

/// <summary>An operation whose caller awaits a result.</summary>
internal abstract class SqliteWalOperation<T> : SqliteWalOperation
{
    // Continuations run inline with Settle: the writer settles a whole commit in one go (itself or in one thread-pool
    // work item, see SqliteWalWriter), and a grain's continuation is only posted to its own scheduler from there.
    private readonly TaskCompletionSource<T> _completion = new();
    private T? _result;

    /// <summary>Completes with <see cref="Run"/>'s result once committed.</summary>
    public Task<T> Task => _completion.Task;

    /// <summary><see cref="Run"/>'s result, once it has run.</summary>
    protected T? Result => _result;

    /// <inheritdoc />
    public sealed override void Execute(SqliteWalCommands commands, long nowMs) => _result = Run(commands, nowMs);

    /// <inheritdoc />
    public sealed override void Settle()
    {
        if (Error is null)
        {
            _completion.TrySetResult(_result!);
        }
        else
        {
            _completion.TrySetException(Error);
        }
    }

    /// <summary>The operation's statements; its return value is handed to the caller after commit.</summary>
    protected abstract T Run(SqliteWalCommands commands, long nowMs);
}
