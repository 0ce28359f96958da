using System.Collections.Concurrent;
using Gateway.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;
using Xunit.Abstractions;

namespace Gateway.Tests.Mqtt;

/// <summary>The MQTT form of the promise: whatever got a PUBACK is delivered, however often the gateway is killed.</summary>
public sealed class MqttCrashTests(ITestOutputHelper output)
{
    private const int Cycles = 3;
    private const int Devices = 16;

    [Fact]
    public async Task Every_message_pubacked_before_a_kill_9_reaches_the_sink_after_restart()
    {
        using var directory = new TempDirectory();
        var acknowledged = new ConcurrentDictionary<(string Device, int N), bool>();
        var nextNumber = new int[Devices];
        for (var cycle = 0; cycle < Cycles; cycle++)
        {
            await using var gateway = await GatewayProcess.StartAsync(directory.Path);
            using var stop = new CancellationTokenSource();
            var senders = Enumerable.Range(0, Devices)
                .Select(device => Task.Run(() => PublishUntilStoppedAsync(gateway.MqttPort, device, nextNumber, acknowledged, stop.Token)))
                .ToList();

            // Killed mid-stream, at a different point each cycle, with every client waiting for a PUBACK.
            var killAfter = acknowledged.Count + 200 + (cycle * 90);
            await Eventually.TrueAsync(() => acknowledged.Count >= killAfter, $"{killAfter} PUBACKs in cycle {cycle}");
            gateway.Kill();
            await stop.CancelAsync();
            await Task.WhenAll(senders);
        }

        await using var final = await GatewayProcess.StartAsync(directory.Path);
        List<SinkLine> delivered = [];
        HashSet<(string, int)> seen = [];
        await Eventually.TrueAsync(() =>
        {
            delivered = SinkFiles.Read(final.SinkFolder);
            seen = delivered.Select(line => (line.DeviceId, line.Line.GetProperty("payload").GetProperty("n").GetInt32())).ToHashSet();
            return acknowledged.Keys.All(seen.Contains);
        }, "every PUBACKed message in the sink", TimeSpan.FromSeconds(60));

        output.WriteLine($"{Cycles} kills, {acknowledged.Count} PUBACKed, {delivered.Count} delivered lines");
        Assert.All(acknowledged.Keys, key => Assert.Contains(key, seen));
        foreach (var device in delivered.GroupBy(line => line.DeviceId))
        {
            var firstSeen = device.Select(line => line.Line.GetProperty("payload").GetProperty("n").GetInt32()).Distinct().ToList();
            Assert.Equal(firstSeen.Order(), firstSeen);
        }
    }

    private static async Task PublishUntilStoppedAsync(
        int port, int device, int[] nextNumber, ConcurrentDictionary<(string, int), bool> acknowledged, CancellationToken stop)
    {
        var deviceId = $"mqtt-crash-{device}";
        try
        {
            // Half the devices speak MQTT 3.1.1, half MQTT 5.
            var (client, _) = await MqttTestClient.ConnectAsync(port, device % 2 == 0 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311, clientId: deviceId);
            using var _ = client;
            while (!stop.IsCancellationRequested)
            {
                var n = nextNumber[device]++;
                var result = await client.PublishAsync($"devices/{deviceId}/telemetry", $$"""{"n":{{n}}}""");
                if (result.ReasonCode == MqttClientPublishReasonCode.Success)
                {
                    acknowledged[(deviceId, n)] = true;
                }
            }
        }
        catch (Exception)
        {
            // The gateway died under this publish: no PUBACK, so nothing was promised.
        }
    }
}
