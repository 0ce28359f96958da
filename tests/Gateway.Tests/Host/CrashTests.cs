using System.Collections.Concurrent;
using System.Net;
using Gateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.Tests.Host;

/// <summary>The promise itself: whatever got a 202 is delivered, however often the gateway is killed.</summary>
public sealed class CrashTests(ITestOutputHelper output)
{
    private const int Cycles = 5;
    private const int Devices = 16;

    [Fact]
    public async Task Every_message_acknowledged_before_a_kill_9_reaches_the_sink_after_restart()
    {
        using var directory = new TempDirectory();
        var acknowledged = new ConcurrentDictionary<string, string>();
        var outcomes = new ConcurrentDictionary<string, int>();
        var nextNumber = new int[Devices];
        var killed = 0;

        for (var cycle = 0; cycle < Cycles; cycle++)
        {
            await using var gateway = await GatewayProcess.StartAsync(directory.Path);
            using var stop = new CancellationTokenSource();
            var senders = Enumerable.Range(0, Devices).Select(device => Task.Run(() => SendUntilStoppedAsync(gateway, device, nextNumber, acknowledged, outcomes, stop.Token))).ToList();

            // Kill mid-stream, at a different point each cycle, while every sender still has requests in flight.
            var killAfter = acknowledged.Count + 150 + (cycle * 70);
            try
            {
                // Progress, not speed, is the condition: a suite sharing two cores with Chromium or a power-cut run can slow
                // the senders several times over, so the wait is long and ends as soon as the count is reached.
                await Eventually.TrueAsync(() => acknowledged.Count >= killAfter, $"{killAfter} acknowledged messages in cycle {cycle}", TimeSpan.FromSeconds(90));
            }
            catch (TimeoutException error)
            {
                // What the senders saw says whether the gateway refused, failed or hung.
                throw new TimeoutException($"{error.Message}: {acknowledged.Count} acknowledged; outcomes {string.Join(", ", outcomes.Select(pair => $"{pair.Key} x{pair.Value}"))}\n{gateway.Output}");
            }

            gateway.Kill();
            killed++;
            await stop.CancelAsync();
            await Task.WhenAll(senders);
        }

        // A last start delivers whatever the kills left pending.
        await using var final = await GatewayProcess.StartAsync(directory.Path);
        List<SinkLine> delivered = [];
        await Eventually.TrueAsync(() =>
        {
            delivered = SinkFiles.Read(final.SinkFolder);
            var ids = delivered.Select(line => line.MessageId).ToHashSet();
            return acknowledged.Keys.All(ids.Contains);
        }, "every acknowledged message in the sink", TimeSpan.FromSeconds(60));

        var deliveredIds = delivered.Select(line => line.MessageId).ToHashSet();
        var missing = acknowledged.Keys.Count(id => !deliveredIds.Contains(id));
        var duplicates = delivered.Count - deliveredIds.Count;
        output.WriteLine($"{killed} kills, {acknowledged.Count} acknowledged, {delivered.Count} delivered lines, {duplicates} duplicates, {missing} missing");
        Assert.Equal(Cycles, killed);
        Assert.Equal(0, missing);

        // Duplicates are allowed (at-least-once), but the first delivery of each message keeps per-device order.
        foreach (var device in delivered.GroupBy(line => line.DeviceId))
        {
            var firstSeen = device.Select(line => line.Sequence).Distinct().ToList();
            Assert.Equal(firstSeen.Order(), firstSeen);
        }
    }

    private static async Task SendUntilStoppedAsync(
        GatewayProcess gateway, int device, int[] nextNumber, ConcurrentDictionary<string, string> acknowledged, ConcurrentDictionary<string, int> outcomes, CancellationToken stop)
    {
        var deviceId = $"crash-{device}";
        while (!stop.IsCancellationRequested)
        {
            var n = nextNumber[device]++;
            try
            {
                using var response = await gateway.Http.PostJsonAsync(deviceId, $$"""{"n":{{n}}}""");
                outcomes.AddOrUpdate(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), 1, (_, count) => count + 1);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    foreach (var id in await response.AcceptedIdsAsync())
                    {
                        acknowledged[id] = deviceId;
                    }
                }
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException or IOException)
            {
                outcomes.AddOrUpdate(error.GetType().Name, 1, (_, count) => count + 1);
                // The gateway died under this request: no 202, so nothing was promised.
                return;
            }
        }
    }
}
