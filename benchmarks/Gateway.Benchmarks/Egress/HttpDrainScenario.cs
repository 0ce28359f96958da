using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Gateway.Benchmarks.Http;
using Gateway.Benchmarks.Measurement;
using Gateway.Storage;

namespace Gateway.Benchmarks.Egress;

/// <summary>
/// <c>http-drain</c>: a backlog of 1,000,000 messages from 100 devices is written to the WAL of a stopped
/// gateway; the gateway starts with its http sink's cloud down (its CPU is measured while it waits, with the
/// default circuit breaker), then the cloud, a local plain-HTTP receiver, comes up and the drain is timed.
/// </summary>
internal sealed class HttpDrainScenario(string siloAssembly) : IScenario
{
    /// <summary>The subcommand.</summary>
    public const string Name = "http-drain";

    private const int DownWindows = 3;
    private static readonly TimeSpan DownWindow = TimeSpan.FromSeconds(10);

    public async IAsyncEnumerable<ResultRow> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var dataFolder = TempFolder.Create("gateway-bench-drain");
        StatusLog.Write($"{Name}: writing a backlog of {DrainBacklog.Backlog:N0} messages");
        var filling = Stopwatch.StartNew();
        await DrainBacklog.FillAsync(new SqliteDatabase(dataFolder.Path), Lanes.Lane.DefaultPriority, cancellationToken).ConfigureAwait(false);
        StatusLog.Write($"{Name}: backlog written in {filling.Elapsed.TotalSeconds:F1} s");

        var cloudPort = FreePorts.Take(1)[0];
        var settings = DrainBacklog.Settings(cloudPort);
        await using var gateway = await GatewayProcess.StartAsync(siloAssembly, dataFolder, settings, cancellationToken).ConfigureAwait(false);

        // The cloud is down: what does waiting cost? Sampled in consecutive windows, since the first seconds
        // after start still carry the runtime's own warm-up (tiered compilation).
        for (var window = 1; window <= DownWindows; window++)
        {
            var cpuBefore = gateway.CpuTime;
            await Task.Delay(DownWindow, cancellationToken).ConfigureAwait(false);
            var idleCpu = (gateway.CpuTime - cpuBefore) / DownWindow;
            yield return new ResultRow($"{Name}: cloud down, {DrainBacklog.Backlog:N0} pending, window {window}", 0, DownWindow, null,
                string.Create(CultureInfo.InvariantCulture, $"gateway CPU {idleCpu:P1} of one core while waiting"));
        }

        // The open circuit lets one probe through per CircuitOpenDuration (30 s by default): delivery resumes at
        // the next probe, and the drain is timed from its first record to the last.
        await using var cloud = await CountingReceiver.StartAsync(cloudPort).ConfigureAwait(false);
        var sinceCloudUp = Stopwatch.StartNew();
        await DrainWait.UntilAsync(() => cloud.Records > 0, sinceCloudUp, cancellationToken).ConfigureAwait(false);
        var resumedAfter = sinceCloudUp.Elapsed;
        var drain = Stopwatch.StartNew();
        var cpuAtDrain = gateway.CpuTime;
        await DrainWait.UntilAsync(() => cloud.Records >= DrainBacklog.Backlog, sinceCloudUp, cancellationToken).ConfigureAwait(false);
        drain.Stop();
        var drainCpu = (gateway.CpuTime - cpuAtDrain) / drain.Elapsed;
        yield return new ResultRow($"{Name}: backlog to HTTP sink", cloud.Records, drain.Elapsed, null,
            string.Create(CultureInfo.InvariantCulture,
                $"first to last record, batches of 1,000; delivery resumed {resumedAfter.TotalSeconds:F1} s after the cloud came up (next circuit probe); gateway CPU {drainCpu:P0} of one core"));
    }
}
