using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Gateway.Benchmarks.Http;
using Gateway.Benchmarks.Measurement;
using Gateway.Lanes;
using Gateway.Storage;

namespace Gateway.Benchmarks.Egress;

/// <summary>
/// <c>lane-drain</c>: 1,000,000 bulk records are pending (written to the WAL of a stopped gateway) when the cloud is
/// down; the gateway starts, 100 alarms arrive over HTTP (half from the bulk devices, half from others), and the cloud,
/// a local plain-HTTP receiver, comes back. Timed from its return to the last alarm received, and to the last record,
/// once with priority lanes (alarms 0, bulk 9) and once without, where the alarms queue behind the backlog.
/// </summary>
internal sealed class LaneDrainScenario(string siloAssembly) : IScenario
{
    /// <summary>The subcommand.</summary>
    public const string Name = "lane-drain";

    private const int Alarms = 100;
    private const int BulkPriority = 9;

    public async IAsyncEnumerable<ResultRow> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var lanes in (bool[])[true, false])
        {
            await foreach (var row in RunOnceAsync(lanes, cancellationToken).ConfigureAwait(false))
            {
                yield return row;
            }
        }
    }

    private async IAsyncEnumerable<ResultRow> RunOnceAsync(bool lanes, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var label = lanes ? "lanes on (alarms 0, bulk 9)" : "lanes off";
        var dataFolder = TempFolder.Create("gateway-bench-lanes");
        StatusLog.Write($"{Name}, {label}: writing a backlog of {DrainBacklog.Backlog:N0} messages");
        await DrainBacklog.FillAsync(new SqliteDatabase(dataFolder.Path),
            lanes ? BulkPriority : Lane.DefaultPriority, cancellationToken).ConfigureAwait(false);

        var cloudPort = FreePorts.Take(1)[0];
        var settings = DrainBacklog.Settings(cloudPort);
        if (lanes)
        {
            settings["Gateway:Lanes:0:Name"] = "alarms";
            settings["Gateway:Lanes:0:Priority"] = "0";
            settings["Gateway:Lanes:0:Topics:0"] = "devices/+/telemetry/alarms";
            settings["Gateway:Lanes:1:Name"] = "bulk";
            settings["Gateway:Lanes:1:Priority"] = BulkPriority.ToString(CultureInfo.InvariantCulture);
        }

        await using var gateway = await GatewayProcess.StartAsync(siloAssembly, dataFolder, settings, cancellationToken).ConfigureAwait(false);
        await PostAlarmsAsync(gateway.IngestAddress, cancellationToken).ConfigureAwait(false);

        await using var cloud = await CountingReceiver.StartAsync(cloudPort, marker: "/alarms\"").ConfigureAwait(false);
        var sinceCloudUp = Stopwatch.StartNew();
        await DrainWait.UntilAsync(() => cloud.Records > 0, sinceCloudUp, cancellationToken).ConfigureAwait(false);
        var resumedAfter = sinceCloudUp.Elapsed;
        await DrainWait.UntilAsync(() => cloud.Marked >= Alarms, sinceCloudUp, cancellationToken).ConfigureAwait(false);
        var lastAlarmAfter = sinceCloudUp.Elapsed;
        var bulkBefore = cloud.UnmarkedBeforeLastMarked;
        await DrainWait.UntilAsync(() => cloud.Records >= DrainBacklog.Backlog + Alarms, sinceCloudUp, cancellationToken).ConfigureAwait(false);
        var drainedAfter = sinceCloudUp.Elapsed;
        yield return new ResultRow($"{Name}, {label}: cloud back to last of {Alarms} alarms", Alarms, lastAlarmAfter - resumedAfter, null,
            string.Create(CultureInfo.InvariantCulture,
                $"{bulkBefore:N0} of {DrainBacklog.Backlog:N0} bulk records before the last alarm; delivery resumed {resumedAfter.TotalSeconds:F1} s after the cloud came up (next circuit probe), the last alarm {lastAlarmAfter.TotalSeconds:F2} s after"));
        yield return new ResultRow($"{Name}, {label}: whole backlog", DrainBacklog.Backlog + Alarms, drainedAfter - resumedAfter, null,
            "from the first record received to the last, batches of 1,000");
    }

    // Half the alarms from devices that have a backlog, half from devices that have none, one HTTP request each.
    private static async Task PostAlarmsAsync(Uri ingest, CancellationToken cancellationToken)
    {
        using var http = LoopbackHttp.CreateClient(maxConnections: 8, TimeSpan.FromSeconds(30));
        for (var alarm = 0; alarm < Alarms; alarm++)
        {
            var deviceId = alarm % 2 == 0 ? SampleTelemetry.DeviceId(alarm / 2 % DrainBacklog.Devices) : $"pump-{alarm}";
            using var content = new StringContent($$"""{"alarm":{{alarm}}}""", Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(new Uri(ingest, $"v1/devices/{deviceId}/telemetry/alarms"), content, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                throw new InvalidOperationException($"An alarm was refused: HTTP {(int)response.StatusCode}.");
            }
        }
    }
}
