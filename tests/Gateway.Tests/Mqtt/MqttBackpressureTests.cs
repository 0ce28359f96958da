using System.Globalization;
using Gateway.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;
using Orleans.TestingHost;

namespace Gateway.Tests.Mqtt;

public sealed class MqttBackpressureTests : IAsyncLifetime
{
    private const int HighWater = 5;
    private readonly TempDirectory _directory = new();
    private readonly int _port = FreePort.Next();
    private TestCluster _cluster = null!;

    private string Blocker => _directory.Combine("blocked");

    private string SinkFolder => Path.Combine(Blocker, "sink");

    public async Task InitializeAsync()
    {
        // The sink's folder cannot be created while a file sits where its parent should be: nothing drains.
        await File.WriteAllTextAsync(Blocker, "in the sink's way");
        _cluster = await GatewayCluster.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:DataPath"] = _directory.Path,
            ["Gateway:Sinks:0:Name"] = "file",
            ["Gateway:Sinks:0:Type"] = "file",
            ["Gateway:Sinks:0:Path"] = SinkFolder,
            ["Gateway:Wal:HighWaterMessages"] = HighWater.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Delivery:MaxAttempts"] = "100000",
            ["Gateway:Delivery:BackoffBase"] = "00:00:00.010",
            ["Gateway:Delivery:BackoffCap"] = "00:00:00.100",
            ["Gateway:Delivery:ReminderPeriod"] = "00:00:01",
            ["Gateway:Mqtt:Port"] = _port.ToString(CultureInfo.InvariantCulture),
        }, extraSiloConfigurators: typeof(MqttSiloConfigurator));
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Above_the_high_water_mark_mqtt5_gets_quota_exceeded_and_mqtt311_no_puback_then_ingest_resumes_when_drained()
    {
        var deviceId = MqttTestClient.NewDeviceId("pressure");
        var late = MqttTestClient.NewDeviceId("late");
        var (v5, _) = await MqttTestClient.ConnectAsync(_port);
        using var __ = v5;
        var acknowledged = new List<int>();

        // Fill up to the mark: every PUBACK below it is a success, the first one at it is 0x97.
        MqttClientPublishResult result;
        var n = 0;
        while ((result = await v5.PublishAsync($"devices/{deviceId}/telemetry", $$"""{"n":{{n}}}""")).ReasonCode == MqttClientPublishReasonCode.Success)
        {
            acknowledged.Add(n++);
            Assert.True(n <= HighWater, "accepted past the high-water mark");
        }

        Assert.Equal(HighWater, acknowledged.Count);
        Assert.Equal(MqttClientPublishReasonCode.QuotaExceeded, result.ReasonCode);
        Assert.True(v5.IsConnected);

        var (v311, ___) = await MqttTestClient.ConnectAsync(_port, MqttProtocolVersion.V311);
        using var ____ = v311;
        await Assert.ThrowsAnyAsync<Exception>(() => v311.PublishAsync($"devices/{late}/telemetry", """{"late":true}"""));
        await Eventually.TrueAsync(() => !v311.IsConnected, "the MQTT 3.1.1 client disconnected without a PUBACK");
        Assert.Equal(0, WalDatabase.Scalar(_directory.Combine("gateway.db"), "SELECT count(*) FROM wal_message WHERE device_id = $d", ("$d", late)));

        // Drain: the sink can write again, delivers the backlog, and ingest takes messages again.
        File.Delete(Blocker);
        await Eventually.TrueAsync(async () =>
        {
            var retry = await v5.PublishAsync($"devices/{deviceId}/telemetry", $$"""{"n":{{n}}}""");
            if (retry.ReasonCode != MqttClientPublishReasonCode.Success)
            {
                return false;
            }

            acknowledged.Add(n++);
            return true;
        }, "ingest to resume after the backlog drained");

        List<SinkLine> lines = [];
        await Eventually.TrueAsync(() => (lines = SinkFiles.Read(SinkFolder).Where(line => line.DeviceId == deviceId).ToList()).Count >= acknowledged.Count,
            "every acknowledged message in the sink");
        Assert.Equal(acknowledged, lines.Select(line => line.Line.GetProperty("payload").GetProperty("n").GetInt32()));
    }
}
