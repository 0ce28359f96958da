using System.Globalization;
using System.Runtime.CompilerServices;
using Gateway.Benchmarks.Http;
using Gateway.Benchmarks.Measurement;
using Gateway.Benchmarks.Wal;
using Gateway.Storage;

namespace Gateway.Benchmarks.Startup;

/// <summary>
/// <c>cold-start</c>: the built gateway from process start until <c>/readyz</c> first answers 200, on an empty data
/// folder and on one whose WAL holds 1,000,000 Enqueued records (what a restart after a long cloud outage sees).
/// </summary>
internal sealed class ColdStartScenario(string siloAssembly) : IScenario
{
    /// <summary>The subcommand.</summary>
    public const string Name = "cold-start";

    private static readonly int[] Backlogs = [0, 1_000_000];

    public async IAsyncEnumerable<ResultRow> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var backlog in Backlogs)
        {
            var folder = TempFolder.Create("gateway-bench-start");
            if (backlog > 0)
            {
                StatusLog.Write($"{Name}: filling {backlog:N0} Enqueued records");
                WalBacklogFiller.Fill(new SqliteDatabase(folder.Path), backlog);
            }

            await using var gateway = await GatewayProcess.StartAsync(siloAssembly, folder, new Dictionary<string, string>(), cancellationToken);
            yield return new ResultRow(
                string.Create(CultureInfo.InvariantCulture, $"{Name}: {backlog:N0} pending in the WAL"), 0, gateway.ReadyAfter, null,
                string.Create(CultureInfo.InvariantCulture, $"process start to /readyz 200: {gateway.ReadyAfter.TotalSeconds:F2} s"));
        }
    }
}
