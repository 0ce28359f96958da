using System.Diagnostics.Metrics;
using Gateway.Storage;
using Gateway.Telemetry;
using Gateway.Wal;
using Gateway.Wal.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Benchmarks.Wal;

/// <summary>Opens a <see cref="SqliteWalStore"/> the way the silo does, minus the grains around it.</summary>
internal static class WalStores
{
    /// <summary>An open store on <paramref name="database"/> committing at most <paramref name="maxBatchOperations"/> operations per transaction.</summary>
    public static SqliteWalStore Open(SqliteDatabase database, int maxBatchOperations)
    {
        var options = Options.Create(new WalOptions { MaxBatchOperations = maxBatchOperations });
        var metrics = new GatewayMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
        var store = new SqliteWalStore(database, options, TimeProvider.System, new NoOpCommitListener(), metrics, NullLogger<SqliteWalStore>.Instance);
        store.Open();
        return store;
    }
}
