using Gateway.Partitions;

namespace Gateway.Wal;

/// <summary>
/// One unit of work for the group-commit writer. It runs inside a transaction shared with other
/// operations, and its caller's task completes only after that transaction has committed.
/// </summary>
internal abstract class WalOperation
{
    /// <summary>How many operations the commit that held this one carried (set before completion).</summary>
    public int CommitOperations { get; set; }

    /// <summary>How long that commit took (set before completion).</summary>
    public TimeSpan CommitDuration { get; set; }

    /// <summary>Runs the operation's statements inside the writer's current transaction.</summary>
    public abstract void Execute(WalCommands commands, long nowMs);

    /// <summary>Called after the transaction holding the operation committed.</summary>
    public abstract void Complete();

    /// <summary>Called when the operation or its transaction failed: nothing of it is durable.</summary>
    public abstract void Fail(Exception error);

    /// <summary>Adds the partitions that have new work once this operation is committed.</summary>
    public virtual void AddWokenPartitions(HashSet<PartitionKey> partitions)
    {
    }
}

/// <summary>An operation whose caller awaits a result.</summary>
internal abstract class WalOperation<T> : WalOperation
{
    // Continuations must not run on the writer thread: it would stall every other caller's commit.
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;

    /// <summary>Completes with <see cref="Run"/>'s result once committed.</summary>
    public Task<T> Task => _completion.Task;

    /// <inheritdoc />
    public sealed override void Execute(WalCommands commands, long nowMs) => _result = Run(commands, nowMs);

    /// <inheritdoc />
    public sealed override void Complete() => _completion.TrySetResult(_result!);

    /// <inheritdoc />
    public sealed override void Fail(Exception error) => _completion.TrySetException(error);

    /// <summary>The operation's statements; its return value is handed to the caller after commit.</summary>
    protected abstract T Run(WalCommands commands, long nowMs);
}
