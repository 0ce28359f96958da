using System.Diagnostics.Metrics;
using Gateway.Telemetry;

namespace Gateway.Silo.Health;

/// <summary>
/// The readiness checks as a metric, <c>gateway_readiness_status{gateway_check}</c>: 1 while the check passes, 0 while
/// it fails, so an alert sees what <c>/readyz</c> answers. The checks run when a scrape finds their last result older
/// than <see cref="MaxAge"/>, never while nobody scrapes: each run is a synced WAL probe write.
/// </summary>
internal sealed class ReadinessMetrics : IHostedService
{
    /// <summary>How old a result a scrape may show: long enough that scraping an idle gateway seldom writes.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(60);

    private const string CheckTag = "gateway.check";

    public ReadinessMetrics(IEnumerable<IReadinessCheck> checks, IMeterFactory meterFactory, TimeProvider time, ILogger<ReadinessMetrics> logger)
    {
        var all = checks.ToList();
        var results = new ScrapeSample<IReadOnlyList<(string Check, bool Ready)>>(() => RunAsync(all), MaxAge, time, logger);
        meterFactory.Create(GatewayTelemetry.Name).CreateObservableGauge("gateway.readiness.status", () => Measurements(results.Latest),
            "1", "1 while the readiness check passes, 0 while it fails (the checks of /readyz, run at most once a minute when scraped).");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static async Task<IReadOnlyList<(string Check, bool Ready)>> RunAsync(IReadOnlyList<IReadinessCheck> checks)
    {
        var results = new List<(string, bool)>(checks.Count);
        foreach (var check in checks)
        {
            results.Add((check.Name, (await check.CheckAsync(CancellationToken.None).ConfigureAwait(false)).Ready));
        }

        return results;
    }

    private static IEnumerable<Measurement<int>> Measurements(IReadOnlyList<(string Check, bool Ready)>? results) =>
        (results ?? []).Select(result => new Measurement<int>(result.Ready ? 1 : 0, new KeyValuePair<string, object?>(CheckTag, result.Check)));
}
