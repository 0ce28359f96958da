using System.Diagnostics;
using System.Net;
using System.Text;
using Gateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.Tests.Egress;

/// <summary>The gateway's reason to exist: a long cloud outage, a restart in the middle, and nothing lost.</summary>
public sealed class OutageTests(ITestOutputHelper output)
{
    private const int Devices = 100;
    private const int MessagesPerDevice = 1000;
    private const int BatchSize = 100;

    [Fact]
    public async Task Messages_accepted_during_an_outage_and_a_restart_all_reach_the_cloud_in_per_device_order()
    {
        using var directory = new TempDirectory();
        var certificates = new TestCertificates(directory.Path);
        await using var cloud = await CloudReceiver.StartAsync(certificates.Server);
        await cloud.StopAsync();
        var settings = new Dictionary<string, string>
        {
            ["Gateway:Sinks:0:Name"] = "cloud",
            ["Gateway:Sinks:0:Type"] = "http",
            ["Gateway:Sinks:0:Url"] = cloud.Url.ToString(),
            ["Gateway:Sinks:0:CaCertificatePath"] = certificates.CaPath,
            ["Gateway:Sinks:0:CircuitOpenDuration"] = "00:00:01",
            ["Gateway:Delivery:BackoffCap"] = "00:00:01",
            ["Gateway:Delivery:BatchSize"] = "1000",
        };

        var gateway = await GatewayProcess.StartAsync(directory.Path, settings);
        await SendAsync(gateway, firstBatch: 0, batches: MessagesPerDevice / BatchSize / 2);
        gateway.Kill();
        await gateway.DisposeAsync();
        await using var restarted = await GatewayProcess.StartAsync(directory.Path, settings);
        await SendAsync(restarted, firstBatch: MessagesPerDevice / BatchSize / 2, batches: MessagesPerDevice / BatchSize / 2);

        var drain = Stopwatch.StartNew();
        await cloud.StartAsync();
        await Eventually.TrueAsync(() => cloud.Accepted.Select(r => r.GetProperty("messageId").GetString()).Distinct().Count() == Devices * MessagesPerDevice,
            "every message in the cloud", TimeSpan.FromMinutes(2));
        drain.Stop();

        var records = cloud.Accepted.ToList();
        output.WriteLine($"{Devices * MessagesPerDevice} messages drained in {drain.Elapsed.TotalSeconds:F1}s " +
            $"({Devices * MessagesPerDevice / drain.Elapsed.TotalSeconds:F0} msg/s), {records.Count - Devices * MessagesPerDevice} duplicates");
        foreach (var device in records.GroupBy(r => r.GetProperty("deviceId").GetString()))
        {
            var firstSeen = device.Select(r => r.GetProperty("payload").GetProperty("n").GetInt32()).Distinct().ToList();
            Assert.Equal(Enumerable.Range(0, MessagesPerDevice), firstSeen);
        }
    }

    private static async Task SendAsync(GatewayProcess gateway, int firstBatch, int batches)
    {
        await Parallel.ForEachAsync(Enumerable.Range(0, Devices), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (device, _) =>
        {
            for (var batch = firstBatch; batch < firstBatch + batches; batch++)
            {
                var body = new StringBuilder("[");
                for (var i = 0; i < BatchSize; i++)
                {
                    body.Append(i == 0 ? "" : ",").Append("{\"n\":").Append(batch * BatchSize + i).Append('}');
                }

                using var response = await gateway.Http.PostJsonAsync($"outage-{device}", body.Append(']').ToString());
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
        });
    }
}
