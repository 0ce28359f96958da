using Gateway.Wal;
using Microsoft.Extensions.Logging;

namespace Gateway.Partitions;

/// <summary>
/// Wakes every partition that holds Enqueued or InFlight records, all at once, and tries again the ones whose
/// wake-up failed. Right after a silo dies a call can fail or hang while the grain directory forgets the dead
/// silo's activations; one such partition must neither hold up nor cancel the others.
/// </summary>
public sealed partial class PendingPartitionWaker(IDeliveryLog wal, PartitionWaker waker, TimeProvider time, ILogger<PendingPartitionWaker> logger)
{
    /// <summary>Rounds of wake-ups before the partitions' reminders are left to wake the rest.</summary>
    public const int MaxRounds = 5;

    /// <summary>How long one wake-up call may take before it counts as failed and is tried again.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The pause before the first retry round; each further round waits one more of it.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>Wakes the partitions with pending records; returns those still not woken after every round.</summary>
    public async Task<IReadOnlyList<PartitionKey>> WakeAllAsync(CancellationToken cancellationToken)
    {
        var partitions = await wal.GetPendingPartitionsAsync().ConfigureAwait(false);
        LogWaking(logger, partitions.Count);
        return await WakeWithRetriesAsync(
            partitions, waker.WakeAsync, time, logger, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Calls <paramref name="wake"/> for every partition at once, and again for the failed ones, up to <see cref="MaxRounds"/> rounds.</summary>
    public static async Task<IReadOnlyList<PartitionKey>> WakeWithRetriesAsync(
        IReadOnlyList<PartitionKey> partitions, Func<PartitionKey, Task> wake, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentNullException.ThrowIfNull(wake);
        var remaining = partitions;
        for (var round = 1; remaining.Count > 0; round++)
        {
            var outcomes = await Task.WhenAll(remaining.Select(partition => TryWakeAsync(partition, wake, time, cancellationToken))).ConfigureAwait(false);
            remaining = [.. outcomes.Where(outcome => outcome.Error is not null).Select(outcome => outcome.Partition)];
            if (remaining.Count == 0)
            {
                break;
            }

            var firstError = outcomes.First(outcome => outcome.Error is not null).Error!;
            if (round == MaxRounds)
            {
                LogGaveUp(logger, remaining.Count, round, firstError);
                break;
            }

            LogRetrying(logger, remaining.Count, firstError);
            await Task.Delay(RetryDelay * round, time, cancellationToken).ConfigureAwait(false);
        }

        return remaining;
    }

    private static async Task<(PartitionKey Partition, Exception? Error)> TryWakeAsync(
        PartitionKey partition, Func<PartitionKey, Task> wake, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            await wake(partition).WaitAsync(CallTimeout, time, cancellationToken).ConfigureAwait(false);
            return (partition, null);
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return (partition, error);
        }
    }

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "Waking {Count} partitions with pending records")]
    private static partial void LogWaking(ILogger logger, int count);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Information, Message = "Waking {Count} partitions with pending records failed; trying them again")]
    private static partial void LogRetrying(ILogger logger, int count, Exception error);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Warning, Message = "Waking {Count} partitions with pending records failed {Rounds} times; their reminders will wake them")]
    private static partial void LogGaveUp(ILogger logger, int count, int rounds, Exception error);
}
