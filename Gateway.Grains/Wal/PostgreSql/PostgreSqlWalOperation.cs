using Gateway.Partitions;
using Npgsql;

namespace Gateway.Wal.PostgreSql;

/// <summary>
/// One unit of work for the PostgreSQL group-commit writer: it adds its statements to the group's shared
/// <see cref="NpgsqlBatch"/> (one round trip for the whole group), reads their results back in order, and says
/// how it changed the delivery counts. Its caller's task completes only after the group's commit.
/// </summary>
internal abstract class PostgreSqlWalOperation
{
    /// <summary>How this operation changed the counts (valid after <see cref="ReadAsync"/>).</summary>
    public WalCounts Delta { get; protected set; }

    /// <summary>
    /// Whether the caller relies on the operation surviving a crash of the server once its task completes (see
    /// <see cref="SqliteWalOperation.MustBeDurable"/>). A transaction with no such operation commits with
    /// <c>synchronous_commit = off</c>: PostgreSQL flushes it with the next synchronous commit, in order.
    /// </summary>
    public bool MustBeDurable { get; init; } = true;

    /// <summary>False for the writer's own bookkeeping, which is not counted as a transaction of work.</summary>
    public virtual bool IsWork => true;

    /// <summary>Adds the operation's statements; each must return exactly one result set (RETURNING or SELECT).</summary>
    public abstract void AddCommands(NpgsqlBatchCommandCollection commands, long nowMs);

    /// <summary>Reads the results of the statements it added, in order.</summary>
    public abstract Task ReadAsync(BatchResults results);

    /// <summary>Called after the transaction holding the operation committed.</summary>
    public abstract void Complete();

    /// <summary>Called when the operation or its transaction failed: nothing of it is durable.</summary>
    public abstract void Fail(Exception error);

    /// <summary>Adds the partitions that have new work once this operation is committed.</summary>
    public virtual void AddWokenPartitions(HashSet<PartitionKey> partitions)
    {
    }
}

/// <summary>An operation defined by its statements and a reader of their results.</summary>
internal sealed class PostgreSqlWalCall<T>(
    Action<NpgsqlBatchCommandCollection, long> addCommands,
    Func<BatchResults, Task<(T Result, WalCounts Delta)>> read,
    Func<T, IEnumerable<PartitionKey>>? wokenPartitions = null,
    bool isWork = true) : PostgreSqlWalOperation
{
    // Continuations must not run on the writer's loop: it would stall every other caller's commit.
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;

    public Task<T> Task => _completion.Task;

    public override bool IsWork => isWork;

    public override void AddCommands(NpgsqlBatchCommandCollection commands, long nowMs) => addCommands(commands, nowMs);

    public override async Task ReadAsync(BatchResults results)
    {
        (_result, var delta) = await read(results).ConfigureAwait(false);
        Delta = delta;
    }

    public override void Complete() => _completion.TrySetResult(_result!);

    public override void Fail(Exception error) => _completion.TrySetException(error);

    public override void AddWokenPartitions(HashSet<PartitionKey> partitions)
    {
        if (wokenPartitions is not null && _result is not null)
        {
            partitions.UnionWith(wokenPartitions(_result));
        }
    }
}

/// <summary>Walks the result sets of a batch, one statement at a time.</summary>
internal sealed class BatchResults(NpgsqlDataReader reader)
{
    private bool _started;

    /// <summary>Moves to the next statement's result set and returns the reader positioned before its first row.</summary>
    public async Task<NpgsqlDataReader> NextAsync()
    {
        if (_started && !await reader.NextResultAsync().ConfigureAwait(false))
        {
            throw new InvalidOperationException("A WAL statement returned no result set.");
        }

        _started = true;
        return reader;
    }
}
