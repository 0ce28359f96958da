using System.Globalization;
using System.Runtime.CompilerServices;
using Gateway.Benchmarks.Measurement;
using Gateway.Storage;
using Gateway.Wal;

namespace Gateway.Benchmarks.Wal;

/// <summary>
/// <c>wal-append</c>: appends per second into an empty WAL, with group commit and with one transaction per
/// message. Every commit waits for a disk sync (synchronous=FULL), so the difference is what sharing it buys.
/// </summary>
internal sealed class WalAppendScenario : IScenario
{
    /// <summary>The subcommand.</summary>
    public const string Name = "wal-append";

    // One sync per message is slow by design; fewer messages keep that variant inside the time budget.
    private static readonly Variant[] Variants =
    [
        new("group commit", new WalOptions().MaxBatchOperations, 100_000),
        new("one transaction per message", 1, 20_000),
    ];

    public async IAsyncEnumerable<ResultRow> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await WalWarmUp.RunAsync(cancellationToken);
        foreach (var variant in Variants)
        {
            using var folder = TempFolder.Create("gateway-bench-wal");
            using var store = WalStores.Open(new SqliteDatabase(folder.Path), variant.MaxBatchOperations);
            StatusLog.Write($"{Name} {variant.Label}: {variant.Messages:N0} messages");
            var result = await WalAppendLoad.RunAsync(store, variant.Messages, cancellationToken);
            yield return new ResultRow(
                string.Create(CultureInfo.InvariantCulture, $"{Name}: {variant.Label} (MaxBatchOperations {variant.MaxBatchOperations})"),
                variant.Messages, result.Load.Elapsed, result.Load.Latency, result.Describe());
        }
    }

    private sealed record Variant(string Label, int MaxBatchOperations, int Messages);
}
