using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Mqtt;
using MQTTnet;
using MQTTnet.Formatter;
using Xunit.Abstractions;

namespace Gateway.Tests.Lanes;

/// <summary>Priority lanes end to end, on a real gateway process: alarms get in and get out first.</summary>
public sealed class LaneGatewayTests(ITestOutputHelper output)
{
    private const string AlarmTopicFilter = "devices/+/telemetry/alarms";

    // Alarms (priority 0) by topic; everything else is bulk (priority 9), which may fill only part of the buffer.
    private static Dictionary<string, string> Lanes(double bulkShare = 1) => new()
    {
        ["Gateway:Lanes:0:Name"] = "alarms",
        ["Gateway:Lanes:0:Priority"] = "0",
        ["Gateway:Lanes:0:Topics:0"] = AlarmTopicFilter,
        ["Gateway:Lanes:1:Name"] = "bulk",
        ["Gateway:Lanes:1:Priority"] = "9",
        ["Gateway:Lanes:1:Share"] = bulkShare.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [Fact]
    public async Task Alarms_stored_behind_200000_bulk_records_during_an_outage_reach_the_cloud_first_and_each_lane_keeps_per_device_order()
    {
        const int bulkDevices = 20;
        const int bulkBatches = 10;
        const int batchSize = 1000;
        using var directory = new TempDirectory();
        var certificates = new TestCertificates(directory.Path);
        await using var cloud = await CloudReceiver.StartAsync(certificates.Server);
        await cloud.StopAsync();
        var settings = new Dictionary<string, string>(Lanes())
        {
            ["Gateway:Sinks:0:Name"] = "cloud",
            ["Gateway:Sinks:0:Type"] = "http",
            ["Gateway:Sinks:0:Url"] = cloud.Url.ToString(),
            ["Gateway:Sinks:0:CaCertificatePath"] = certificates.CaPath,
            ["Gateway:Sinks:0:CircuitOpenDuration"] = "00:00:01",
            ["Gateway:Delivery:BackoffBase"] = "00:00:00.100",
            ["Gateway:Delivery:BackoffCap"] = "00:00:01",
        };
        await using var gateway = await GatewayProcess.StartAsync(directory.Path, settings);

        // The outage: 200,000 bulk records from 20 devices, then alarms from the same devices (HTTP, a subtopic) and
        // from others (MQTT 5), all acknowledged while the cloud is down.
        await Parallel.ForEachAsync(Enumerable.Range(0, bulkDevices), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (device, _) =>
        {
            for (var batch = 0; batch < bulkBatches; batch++)
            {
                var body = new StringBuilder("[");
                for (var i = 0; i < batchSize; i++)
                {
                    body.Append(i == 0 ? "" : ",").Append("{\"n\":").Append((batch * batchSize) + i).Append('}');
                }

                using var response = await gateway.Http.PostJsonAsync($"bulk-{device}", body.Append(']').ToString());
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
        });
        var alarms = new List<string>();
        for (var device = 0; device < bulkDevices; device++)
        {
            using var response = await gateway.Http.PostAsync($"/v1/devices/bulk-{device}/telemetry/alarms",
                new StringContent("""[{"alarm":0},{"alarm":1}]""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            alarms.AddRange(await response.AcceptedIdsAsync());
        }

        var (pumps, _) = await MqttTestClient.ConnectAsync(gateway.MqttPort);
        using (pumps)
        {
            for (var pump = 0; pump < 10; pump++)
            {
                for (var alarm = 0; alarm < 2; alarm++)
                {
                    var published = await pumps.PublishAsync($"devices/pump-{pump}/telemetry/alarms", $$"""{"alarm":{{alarm}}}""");
                    Assert.Equal(MqttClientPublishReasonCode.Success, published.ReasonCode);
                }
            }
        }

        // The cloud comes back.
        var drain = Stopwatch.StartNew();
        await cloud.StartAsync();
        const int total = (bulkDevices * bulkBatches * batchSize) + (bulkDevices * 2) + (10 * 2);
        await Eventually.TrueAsync(() => cloud.Accepted.Select(record => record.GetProperty("messageId").GetString()).Distinct().Count() == total,
            "every record in the cloud", TimeSpan.FromMinutes(3));
        drain.Stop();

        var received = cloud.Accepted.ToList();
        var lastAlarm = received.FindLastIndex(IsAlarm);
        var bulkBeforeLastAlarm = received.Take(lastAlarm).Count(record => !IsAlarm(record));
        output.WriteLine($"{total} records drained in {drain.Elapsed.TotalSeconds:F1} s; the last of {bulkDevices * 2 + 20} alarms arrived " +
            $"after {bulkBeforeLastAlarm} bulk records, {received.Count - total} duplicates");
        Assert.True(bulkBeforeLastAlarm < 1000, $"{bulkBeforeLastAlarm} bulk records reached the cloud before the last alarm");
        Assert.Equal(bulkDevices * 2 + 20, received.Where(IsAlarm).Select(record => record.GetProperty("messageId").GetString()).Distinct().Count());
        Assert.All(alarms, id => Assert.Contains(received, record => record.GetProperty("messageId").GetString() == id));

        // Within each lane, every device's records arrive in the order it sent them (an alarm overtakes its own bulk).
        foreach (var lane in received.GroupBy(record => (Device: record.GetProperty("deviceId").GetString(), Alarm: IsAlarm(record))))
        {
            var firstSeen = lane.Select(record => record.GetProperty("payload").GetProperty(lane.Key.Alarm ? "alarm" : "n").GetInt32()).Distinct().ToList();
            Assert.Equal(firstSeen.Order(), firstSeen);
        }
    }

    [Fact]
    public async Task With_the_buffer_at_the_bulk_share_bulk_is_refused_over_mqtt_5_mqtt_3_1_1_and_http_while_alarms_are_accepted_and_delivered()
    {
        using var directory = new TempDirectory();
        var blocker = directory.Combine("not-a-folder");
        await File.WriteAllTextAsync(blocker, "the sink's folder cannot be made while this file is in its way");
        var settings = BlockedFileSink(blocker, Lanes(bulkShare: 0.5));
        settings["Gateway:Wal:HighWaterMessages"] = "10";
        settings["Gateway:Wal:RetryAfterSeconds"] = "3";
        await using var gateway = await GatewayProcess.StartAsync(directory.Path, settings);

        using (var filled = await gateway.Http.PostJsonAsync("logger-1", "[{\"n\":0},{\"n\":1},{\"n\":2},{\"n\":3},{\"n\":4}]"))
        {
            Assert.Equal(HttpStatusCode.Accepted, filled.StatusCode);
        }

        // Bulk is at its share (5 of 10): refused over HTTP (429 with Retry-After), MQTT 5 (0x97) and MQTT 3.1.1 (no PUBACK).
        using (var refused = await gateway.Http.PostJsonAsync("logger-1", "{\"n\":5}"))
        {
            var problem = await refused.AssertProblemAsync((HttpStatusCode)429, "backpressure");
            Assert.Equal(TimeSpan.FromSeconds(3), refused.Headers.RetryAfter?.Delta);
            Assert.StartsWith("Lane 'bulk' is full:", problem.GetProperty("detail").GetString());
        }

        var (v5, _) = await MqttTestClient.ConnectAsync(gateway.MqttPort);
        using var v5Client = v5;
        Assert.Equal(MqttClientPublishReasonCode.QuotaExceeded, (await v5.PublishAsync("devices/logger-2/telemetry", "{\"n\":0}")).ReasonCode);
        var (v311, _) = await MqttTestClient.ConnectAsync(gateway.MqttPort, MqttProtocolVersion.V311);
        using (v311)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => v311.PublishAsync("devices/logger-3/telemetry", "{\"n\":0}"));
        }

        // Alarms are still accepted, over HTTP and both MQTT versions, up to the hard limit.
        using (var alarm = await gateway.Http.PostAsync("/v1/devices/logger-1/telemetry/alarms", new StringContent("{\"alarm\":0}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Accepted, alarm.StatusCode);
        }

        Assert.Equal(MqttClientPublishReasonCode.Success, (await v5.PublishAsync("devices/pump-1/telemetry/alarms", "{\"alarm\":0}")).ReasonCode);
        var (v311Alarm, _) = await MqttTestClient.ConnectAsync(gateway.MqttPort, MqttProtocolVersion.V311);
        using (v311Alarm)
        {
            await v311Alarm.PublishAsync("devices/pump-2/telemetry/alarms", "{\"alarm\":0}");
        }

        // Readiness stays ready and warns which lane is refused; the admin API and the metrics say the same.
        using (var readiness = await gateway.Operations.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, readiness.StatusCode);
            var lanes = (await readiness.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checks").GetProperty("lanes");
            Assert.Equal("warn", lanes.GetProperty("status").GetString());
            Assert.Contains("[bulk] Lane 'bulk' is full", lanes.GetProperty("reason").GetString());
            Assert.DoesNotContain("[alarms]", lanes.GetProperty("reason").GetString());
        }

        using var admin = gateway.GeneratedTokenAdmin();
        var views = await admin.GetFromJsonAsync<JsonElement>("/admin/v1/lanes");
        var bulk = views.EnumerateArray().Single(lane => lane.GetProperty("name").GetString() == "bulk");
        var alarms = views.EnumerateArray().Single(lane => lane.GetProperty("name").GetString() == "alarms");
        Assert.Equal((5, 3), (bulk.GetProperty("pendingRecords").GetInt32(), alarms.GetProperty("pendingRecords").GetInt32()));
        Assert.Equal(3, bulk.GetProperty("refusedSinceStart").GetInt32());
        Assert.StartsWith("Lane 'bulk' is full", bulk.GetProperty("refused").GetString());
        Assert.Equal(JsonValueKind.Null, alarms.GetProperty("refused").ValueKind);
        var metrics = await gateway.Operations.GetStringAsync("/metrics");
        Assert.Matches("""gateway_lane_refused_total\{[^}]*gateway_lane="bulk"[^}]*\} 3""", metrics);
        Assert.Matches("""gateway_lane_refused_total\{[^}]*gateway_lane="alarms"[^}]*\} 0""", metrics);

        // The sink can write again: everything acknowledged is delivered, nothing refused is.
        File.Delete(blocker);
        await Eventually.TrueAsync(() => SinkFiles.Read(Path.Combine(blocker, "sink")).Count == 8, "the 8 acknowledged messages in the sink", TimeSpan.FromSeconds(30));
        var delivered = SinkFiles.Read(Path.Combine(blocker, "sink"));
        Assert.Equal(["logger-1", "logger-1", "logger-1", "logger-1", "logger-1", "logger-1", "pump-1", "pump-2"],
            delivered.Select(line => line.DeviceId).Order());
        Assert.DoesNotContain(delivered, line => line.DeviceId is "logger-2" or "logger-3");
    }

    [Fact]
    public async Task Bulk_records_past_their_time_to_live_become_dead_letters_with_reason_expired_alarms_stay_and_replay_delivers_them()
    {
        using var directory = new TempDirectory();
        var blocker = directory.Combine("not-a-folder");
        await File.WriteAllTextAsync(blocker, "the sink's folder cannot be made while this file is in its way");
        var settings = BlockedFileSink(blocker, Lanes());
        settings["Gateway:Lanes:1:TimeToLive"] = "00:00:05";
        settings["Gateway:Wal:CompactionInterval"] = "00:00:01";
        await using var gateway = await GatewayProcess.StartAsync(directory.Path, settings);
        using var admin = gateway.GeneratedTokenAdmin();
        using (var bulk = await gateway.Http.PostJsonAsync("logger-1", "[{\"n\":0},{\"n\":1},{\"n\":2}]"))
        {
            Assert.Equal(HttpStatusCode.Accepted, bulk.StatusCode);
        }

        using (var alarm = await gateway.Http.PostAsync("/v1/devices/logger-1/telemetry/alarms", new StringContent("{\"alarm\":0}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Accepted, alarm.StatusCode);
        }

        List<JsonElement> dead = [];
        await Eventually.TrueAsync(async () =>
        {
            dead = (await admin.GetFromJsonAsync<JsonElement>("/admin/v1/dead-letters")).GetProperty("items").EnumerateArray().ToList();
            return dead.Count == 3;
        }, "the three bulk records expired", TimeSpan.FromSeconds(30));
        Assert.All(dead, letter => Assert.Equal("expired", letter.GetProperty("lastError").GetString()));
        Assert.Equal(["gateway:logger-1:1", "gateway:logger-1:2", "gateway:logger-1:3"], dead.Select(letter => letter.GetProperty("messageId").GetString()));
        var lanes = await admin.GetFromJsonAsync<JsonElement>("/admin/v1/lanes");
        Assert.Equal(3, lanes.EnumerateArray().Single(lane => lane.GetProperty("name").GetString() == "bulk").GetProperty("expiredSinceStart").GetInt32());
        Assert.Equal(1, lanes.EnumerateArray().Single(lane => lane.GetProperty("name").GetString() == "alarms").GetProperty("pendingRecords").GetInt32());
        Assert.Matches("""gateway_lane_expired_total\{[^}]*gateway_lane="bulk"[^}]*\} 3""", await gateway.Operations.GetStringAsync("/metrics"));

        // The sink is back and an operator replays them: the time to live starts again, and everything is delivered.
        File.Delete(blocker);
        using (var replay = await admin.PostAsJsonAsync("/admin/v1/dead-letters/replay", new { deviceId = "logger-1" }))
        {
            Assert.Equal(3, (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("replayed").GetInt32());
        }

        await Eventually.TrueAsync(() => SinkFiles.Read(Path.Combine(blocker, "sink")).Count == 4, "the alarm and the three replayed records in the sink", TimeSpan.FromSeconds(30));
        Assert.Equal([0, 1, 2], SinkFiles.Read(Path.Combine(blocker, "sink"))
            .Where(line => line.Line.GetProperty("payload").TryGetProperty("n", out _))
            .Select(line => line.Line.GetProperty("payload").GetProperty("n").GetInt32()));
    }

    // A file sink under a path a file blocks, retried quickly and never dead-lettered: records wait until the test
    // deletes the file.
    private static Dictionary<string, string> BlockedFileSink(string blocker, Dictionary<string, string> lanes) => new(lanes)
    {
        ["Gateway:Sinks:0:Name"] = "file",
        ["Gateway:Sinks:0:Type"] = "file",
        ["Gateway:Sinks:0:Path"] = Path.Combine(blocker, "sink"),
        ["Gateway:Sinks:0:CircuitOpenDuration"] = "00:00:00.200",
        ["Gateway:Delivery:MaxAttempts"] = "100000",
        ["Gateway:Delivery:BackoffBase"] = "00:00:00.050",
        ["Gateway:Delivery:BackoffCap"] = "00:00:00.200",
    };

    private static bool IsAlarm(JsonElement record) => record.GetProperty("topic").GetString()!.EndsWith("/alarms", StringComparison.Ordinal);
}
