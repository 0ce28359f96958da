using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Gateway.Benchmarks.Measurement;
using Gateway.Storage;
using Gateway.Wal;

namespace Gateway.Benchmarks.Wal;

/// <summary>
/// <c>wal-backlog</c>: the same append load on a WAL already holding a small and a large backlog of
/// Enqueued records, to show whether what the WAL holds makes each append dearer, and what the sink backlog
/// gauges' read costs at each size.
/// </summary>
internal sealed class WalBacklogScenario : IScenario
{
    /// <summary>The subcommand.</summary>
    public const string Name = "wal-backlog";

    private const int Messages = 50_000;
    private static readonly int[] Backlogs = [1_000, 1_000_000];

    public async IAsyncEnumerable<ResultRow> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await WalWarmUp.RunAsync(cancellationToken);
        foreach (var backlog in Backlogs)
        {
            using var folder = TempFolder.Create("gateway-bench-backlog");
            var database = new SqliteDatabase(folder.Path);

            StatusLog.Write($"{Name}: filling {backlog:N0} Enqueued records");
            var fillStarted = Stopwatch.GetTimestamp();
            WalBacklogFiller.Fill(database, backlog);
            var fillTime = Stopwatch.GetElapsedTime(fillStarted);

            var openStarted = Stopwatch.GetTimestamp();
            using var store = WalStores.Open(database, new WalOptions().MaxBatchOperations);
            var openTime = Stopwatch.GetElapsedTime(openStarted);
            var pendingAtOpen = store.GetStatistics().PendingRecords;

            // What one scrape of the sink backlog gauges costs at this backlog (a pass over the pending deliveries).
            var backlogReadStarted = Stopwatch.GetTimestamp();
            var backlogs = await store.GetSinkBacklogsAsync();
            var backlogReadTime = Stopwatch.GetElapsedTime(backlogReadStarted);

            StatusLog.Write($"{Name} {backlog:N0}: {Messages:N0} messages");
            var result = await WalAppendLoad.RunAsync(store, Messages, cancellationToken);
            yield return new ResultRow(
                string.Create(CultureInfo.InvariantCulture, $"{Name}: {backlog:N0} Enqueued"),
                Messages, result.Load.Elapsed, result.Load.Latency,
                string.Create(CultureInfo.InvariantCulture,
                    $"{result.Describe()}; fill {fillTime.TotalSeconds:F2} s, Open() {openTime.TotalSeconds:F2} s counted {pendingAtOpen:N0} pending; "
                    + $"sink backlog read {backlogReadTime.TotalMilliseconds:F1} ms ({backlogs.Sum(sink => sink.Records):N0} records)"));
        }
    }
}
