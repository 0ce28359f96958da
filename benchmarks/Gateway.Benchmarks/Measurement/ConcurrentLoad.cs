using System.Diagnostics;

namespace Gateway.Benchmarks.Measurement;

/// <summary>
/// Runs a fixed number of operations spread over concurrent workers. Each worker runs its share one after
/// the other, as a device that waits for each answer before sending again; every operation is timed.
/// </summary>
internal static class ConcurrentLoad
{
    /// <param name="workers">How many workers run at once.</param>
    /// <param name="operations">Operations in total, split as evenly as possible over the workers.</param>
    /// <param name="createWorker">Builds worker i's operation; it may keep that worker's own state.</param>
    /// <param name="cancellationToken">Stops every worker before its next operation.</param>
    public static async Task<LoadResult> RunAsync(
        int workers, int operations, Func<int, LoadOperation> createWorker, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(operations, workers);
        ArgumentNullException.ThrowIfNull(createWorker);

        var operationsOfWorker = new LoadOperation[workers];
        for (var i = 0; i < workers; i++)
        {
            operationsOfWorker[i] = createWorker(i);
        }

        var started = Stopwatch.GetTimestamp();
        var running = new Task<WorkerSamples>[workers];
        for (var i = 0; i < workers; i++)
        {
            var operation = operationsOfWorker[i];
            var share = operations / workers + (i < operations % workers ? 1 : 0);
            running[i] = Task.Run(() => RunWorkerAsync(operation, share, cancellationToken), cancellationToken);
        }

        var samples = await Task.WhenAll(running).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);

        var latencies = samples.SelectMany(worker => worker.LatencyTicks).ToArray();
        var failures = samples.Sum(worker => worker.Failures);
        return new LoadResult(elapsed, operations, failures, LatencySummary.From(latencies));
    }

    private static async Task<WorkerSamples> RunWorkerAsync(LoadOperation operation, int count, CancellationToken cancellationToken)
    {
        var latencyTicks = new List<long>(count);
        var failures = 0;
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = Stopwatch.GetTimestamp();
            if (await operation(cancellationToken).ConfigureAwait(false))
            {
                latencyTicks.Add(Stopwatch.GetElapsedTime(start).Ticks);
            }
            else
            {
                failures++;
            }
        }

        return new WorkerSamples(latencyTicks, failures);
    }

    private sealed record WorkerSamples(List<long> LatencyTicks, int Failures);
}
