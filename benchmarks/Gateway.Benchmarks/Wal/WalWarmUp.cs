using Gateway.Storage;
using Gateway.Wal;

namespace Gateway.Benchmarks.Wal;

/// <summary>
/// Runs the append path on a throwaway WAL before anything is timed. Without it the first variant measured
/// partly unoptimized code: tiered compilation needs a second or so of load to finish on two cores.
/// </summary>
internal static class WalWarmUp
{
    private const int Messages = 10_000;

    public static async Task RunAsync(CancellationToken cancellationToken)
    {
        StatusLog.Write($"warming up the append path with {Messages:N0} messages on a throwaway WAL");
        using var folder = TempFolder.Create("gateway-bench-warmup");
        using var store = WalStores.Open(new SqliteDatabase(folder.Path), new WalOptions().MaxBatchOperations);
        await WalAppendLoad.RunAsync(store, Messages, cancellationToken).ConfigureAwait(false);
    }
}
