using Gateway.Load.Broker;
using Gateway.Load.Check;
using Gateway.Load.Load;
using Gateway.Load.Receive;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Proof;

/// <summary>
/// The proof tools end to end, small: the load generator against the real gateway process, over MQTT QoS 1 and
/// HTTP, with the default file sink and an http sink posting to the local NDJSON receiver; the checker must
/// find every acknowledged message in both, in per-device order.
/// </summary>
public sealed class LoadGeneratorTests
{
    [Fact]
    public async Task Load_generator_gateway_and_checker_agree_end_to_end()
    {
        using var folder = new TempDirectory();
        var data = Directory.CreateDirectory(folder.Combine("data")).FullName;
        var received = folder.Combine("cloud.ndjson");
        var cloudPort = FreePort.Next();
        await using var cloud = await NdjsonReceiver.StartAsync(cloudPort, received);
        await using var gateway = await GatewayProcess.StartAsync(data, new Dictionary<string, string>
        {
            ["Gateway:Sinks:0:Name"] = "file",
            ["Gateway:Sinks:0:Type"] = "file",
            ["Gateway:Sinks:0:Path"] = Path.Combine(data, "sink"),
            ["Gateway:Sinks:1:Name"] = "cloud",
            ["Gateway:Sinks:1:Type"] = "http",
            ["Gateway:Sinks:1:Url"] = $"http://127.0.0.1:{cloudPort}/ingest",
            ["Gateway:Sinks:1:AllowInsecure"] = "true",
        });
        var acked = folder.Combine("acked.txt");

        var mqtt = await LoadRun.RunAsync(
            Settings(Transport.MqttQos1, gateway.MqttPort, devices: 10, count: 300, inFlight: 3, acked) with { ServerPid = gateway.ProcessId },
            CancellationToken.None);
        var http = await LoadRun.RunAsync(Settings(Transport.Http, gateway.Http.BaseAddress!.Port, devices: 5, count: 100, inFlight: 1, acked), CancellationToken.None);

        Assert.Equal((300, 0), (mqtt.Acknowledged, mqtt.Refused));
        Assert.Equal((100, 0), (http.Acknowledged, http.Refused));
        Assert.NotNull(mqtt.P999Milliseconds);
        // CPU per message of both sides of the run: what the proof table explains a shared machine's rates with.
        Assert.True(mqtt.ServerCpuMicroseconds > 0, $"the gateway's CPU per message, {mqtt.ServerCpuMicroseconds}");
        Assert.True(mqtt.LoadCpuMicroseconds > 0, $"the load generator's CPU per message, {mqtt.LoadCpuMicroseconds}");
        Assert.Null(http.ServerCpuMicroseconds);
        // The gateway's commits reach storage: bytes written per message is what a flash card wears on.
        Assert.True(mqtt.ServerWrittenBytes > 0, $"the gateway's bytes written per message, {mqtt.ServerWrittenBytes}");
        Assert.Null(http.ServerWrittenBytes);
        Assert.Equal(400, File.ReadLines(acked).Count());
        foreach (var sink in new[] { gateway.SinkFolder, received })
        {
            CheckResult? result = null;
            await Eventually.TrueAsync(() =>
            {
                result = CheckAgainst(acked, sink);
                return result.Passed;
            }, $"the checker to find every acknowledged message in {sink}", TimeSpan.FromSeconds(60));
            Assert.Equal(400, result!.Acknowledged);
        }

        // The checker is not fooled: a message it never saw acknowledged, claimed as acknowledged, is missing.
        await File.AppendAllLinesAsync(acked, [new MessageKey(mqtt.Label, 1).ToLine()]);
        Assert.Equal(1, CheckAgainst(acked, gateway.SinkFolder).Missing);
    }

    [Fact]
    public async Task Load_generator_publishes_over_mutual_TLS_with_a_client_certificate()
    {
        using var folder = new TempDirectory();
        var data = Directory.CreateDirectory(folder.Combine("data")).FullName;
        var certificates = new TestCertificates(Directory.CreateDirectory(folder.Combine("certificates")).FullName);
        var tlsPort = FreePort.Next();
        await using var gateway = await GatewayProcess.StartAsync(data, new Dictionary<string, string>
        {
            ["Gateway:Mqtt:TlsPort"] = tlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway:Mqtt:TlsBindAddress"] = "127.0.0.1",
            ["Gateway:Mqtt:CertificatePath"] = certificates.ServerCertificatePath,
            ["Gateway:Mqtt:CertificateKeyPath"] = certificates.ServerKeyPath,
            ["Gateway:Mqtt:ClientCaPath"] = certificates.CaPath,
            ["Gateway:Mqtt:RequireClientCertificate"] = "true",
        });
        var acked = folder.Combine("acked.txt");
        var settings = Settings(Transport.MqttQos1, tlsPort, devices: 3, count: 30, inFlight: 2, acked);
        // One certificate naming all three devices; the load generator sends the device id as the user name.
        var device = certificates.Client(settings.DeviceId(0), settings.DeviceId(0), settings.DeviceId(1), settings.DeviceId(2));

        var run = await LoadRun.RunAsync(
            settings with { CaPath = certificates.CaPath, CertificatePath = device.CertificatePath, KeyPath = device.KeyPath },
            CancellationToken.None);

        Assert.Equal((30, 0), (run.Acknowledged, run.Refused));
        await Eventually.TrueAsync(() => CheckAgainst(acked, gateway.SinkFolder) is { Passed: true, Acknowledged: 30 },
            "the file sink to hold the 30 messages sent over TLS");
    }

    private static CheckResult CheckAgainst(string acked, string sink)
    {
        var check = new DeliveryCheck();
        AcknowledgedIds.Read(acked, check);
        foreach (var file in File.Exists(sink) || Directory.Exists(sink) ? SinkRecords.Files(sink) : [])
        {
            SinkRecords.Read(file, check);
        }

        return check.Result();
    }

    [Fact]
    public async Task The_bare_MQTTnet_baseline_acknowledges_every_QoS_1_publish_and_counts_it()
    {
        var port = FreePort.Next();
        using var broker = await BareMqttBroker.StartAsync(port);
        using var folder = new TempDirectory();

        var run = await LoadRun.RunAsync(Settings(Transport.MqttQos1, port, devices: 4, count: 200, inFlight: 2, folder.Combine("acked.txt")), CancellationToken.None);

        Assert.Equal((200, 0, 0), (run.Acknowledged, run.Refused, run.Lost));
        Assert.Equal(200, broker.Published);
    }

    private static LoadSettings Settings(Transport transport, int port, int devices, long count, int inFlight, string acked) => new()
    {
        Transport = transport,
        Host = "127.0.0.1",
        Port = port,
        Devices = devices,
        DevicePrefix = $"proof-{transport}-{Guid.NewGuid():N}"[..24],
        Rate = 0,
        PayloadBytes = 100,
        Duration = TimeSpan.FromMinutes(2),
        Count = count,
        WarmUp = TimeSpan.Zero,
        InFlight = inFlight,
        AckedPath = acked,
        CaPath = null,
        CertificatePath = null,
        KeyPath = null,
        Label = "never-acknowledged-device",
        AckTimeout = TimeSpan.FromSeconds(30),
    };
}
