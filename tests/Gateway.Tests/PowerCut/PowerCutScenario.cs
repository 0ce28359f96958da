using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Mqtt;
using MQTTnet;
using MQTTnet.Formatter;

namespace Gateway.Tests.PowerCut;

/// <summary>What a power-cut run found, per sink: acknowledged messages missing, duplicates, per-device order broken.</summary>
public sealed record PowerCutResult(
    int Cuts, int Acknowledged, int FileMissing, int FileDuplicates, int CloudMissing, int CloudDuplicates, int OrderViolations,
    IReadOnlyList<string> IntegrityChecks, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"{Cuts} power cuts, {Acknowledged} acknowledged (PUBACK or 202); file sink: {FileMissing} missing, {FileDuplicates} duplicates; " +
        $"cloud sink: {CloudMissing} missing, {CloudDuplicates} duplicates; {OrderViolations} devices out of order; " +
        $"integrity_check after each cut: {string.Join(", ", IntegrityChecks.Distinct())}; {Elapsed.TotalSeconds:F0} s";
}

/// <summary>
/// The gateway on a disk that loses power: its data folder (SQLite WAL, file sink, admin token) on powercutfs, MQTT
/// QoS 1 and HTTP devices sending, a file sink and an http sink to a local receiver. At a random moment the power is
/// cut (a torn last write included) and the gateway killed; the disk is mounted again on what survived, the database
/// checked, and the gateway started on it. At the end every acknowledged message must be in both sinks.
/// </summary>
public sealed class PowerCutScenario(Action<string> log)
{
    private const int MqttDevices = 8;
    private const int HttpDevices = 8;
    private readonly ConcurrentDictionary<(string Device, int N), bool> _acknowledged = new();
    private readonly int[] _next = new int[MqttDevices + HttpDevices];

    /// <summary>Power cuts before the last start.</summary>
    public int Cuts { get; init; } = 3;

    /// <summary>Passed to the file system: files whose syncs it ignores (negative controls), or null.</summary>
    public string? IgnoreSyncOf { get; init; }

    public async Task<PowerCutResult> RunAsync()
    {
        var started = DateTime.UtcNow;
        using var outside = new TempDirectory(); // what is not on the disk that loses power: the cloud's certificates
        var certificates = new TestCertificates(outside.Path);
        await using var cloud = await CloudReceiver.StartAsync(certificates.Server);
        var options = new PowerCutOptions { TearLastWrite = true, IgnoreSyncOf = IgnoreSyncOf };
        log($"powercutfs seed {options.Seed}");
        await using var disk = await PowerCutDisk.CreateAsync(options);
        var data = disk.Combine("data");
        var settings = new Dictionary<string, string>
        {
            ["Gateway:Sinks:0:Name"] = "file",
            ["Gateway:Sinks:0:Type"] = "file",
            ["Gateway:Sinks:0:MaxFileBytes"] = "65536", // rotations under load, so some cuts fall next to one
            ["Gateway:Sinks:1:Name"] = "cloud",
            ["Gateway:Sinks:1:Type"] = "http",
            ["Gateway:Sinks:1:Url"] = cloud.Url.ToString(),
            ["Gateway:Sinks:1:CaCertificatePath"] = certificates.CaPath,
            ["Gateway:Sinks:1:CircuitOpenDuration"] = "00:00:01",
            ["Gateway:Delivery:BackoffCap"] = "00:00:01",
            ["Gateway:Wal:AckedRetention"] = "00:00:01", // compaction deletes delivered messages while the load runs
            ["Gateway:Wal:CompactionInterval"] = "00:00:01",
            ["Gateway:Wal:DiskFreeFloorBytes"] = "0",
        };
        var sinkFolder = Path.Combine(data, "sink", "file");
        var integrity = new List<string>();

        for (var cut = 1; cut <= Cuts; cut++)
        {
            await using var gateway = await GatewayProcess.StartAsync(data, settings);
            using var stop = new CancellationTokenSource();
            var senders = StartSenders(gateway, stop.Token);
            var cutAfter = _acknowledged.Count + Random.Shared.Next(150, 700);
            await Eventually.TrueAsync(() => _acknowledged.Count >= cutAfter, $"{cutAfter} acknowledgements before cut {cut}", TimeSpan.FromSeconds(60));
            if (IgnoreSyncOf is not null)
            {
                // The negative control must have something to lose: sink lines whose acks are durable.
                await Eventually.TrueAsync(() => SinkFiles.Read(sinkFolder, afterPowerCuts: true).Count >= 100, "file sink lines before the cut", TimeSpan.FromSeconds(60));
            }

            await Task.Delay(Random.Shared.Next(0, 300));
            var acknowledgedAtCut = _acknowledged.Count;
            await disk.CutPowerAsync();
            gateway.Kill(); // its files are gone under it; it would only fail from here on
            await stop.CancelAsync();
            await Task.WhenAll(senders);
            var cutLog = disk.Log.Trim().Replace("powercutfs: ", "", StringComparison.Ordinal).Replace('\n', ',');

            await disk.MountAsync();
            var check = PowerCutChecks.IntegrityCheck(Path.Combine(data, "gateway.db"));
            integrity.Add(check);
            log($"cut {cut}: {acknowledgedAtCut} acknowledged; {cutLog}; integrity_check: {check}");
        }

        await using var final = await GatewayProcess.StartAsync(data, settings);
        var (file, cloudRecords) = await DrainAsync(sinkFolder, cloud);
        var fileKeys = file.Select(line => Key(line.Line)).ToList();
        var cloudKeys = cloudRecords.Select(Key).ToList();
        return new PowerCutResult(
            Cuts, _acknowledged.Count,
            Missing(fileKeys), fileKeys.Count - fileKeys.Distinct().Count(),
            Missing(cloudKeys), cloudKeys.Count - cloudKeys.Distinct().Count(),
            OrderViolations(fileKeys) + OrderViolations(cloudKeys), integrity, DateTime.UtcNow - started);
    }

    /// <summary>Waits until both sinks hold every acknowledged message, or (when some are lost) until they stop changing.</summary>
    private async Task<(List<SinkLine> File, List<JsonElement> Cloud)> DrainAsync(string sinkFolder, CloudReceiver cloud)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        var lastChange = DateTime.UtcNow;
        var lastCounts = (-1, -1);
        while (true)
        {
            var file = SinkFiles.Read(sinkFolder, afterPowerCuts: true);
            var records = cloud.Accepted.ToList();
            if (Missing(file.Select(line => Key(line.Line)).ToList()) == 0 && Missing(records.Select(Key).ToList()) == 0)
            {
                return (file, records);
            }

            if ((file.Count, records.Count) != lastCounts)
            {
                lastCounts = (file.Count, records.Count);
                lastChange = DateTime.UtcNow;
            }

            if (DateTime.UtcNow > deadline || DateTime.UtcNow - lastChange > TimeSpan.FromSeconds(8))
            {
                return (file, records);
            }

            await Task.Delay(200);
        }
    }

    private int Missing(List<(string, int)> delivered)
    {
        var seen = delivered.ToHashSet();
        return _acknowledged.Keys.Count(key => !seen.Contains(key));
    }

    /// <summary>Devices whose messages were first delivered out of their order (duplicates may repeat, never overtake).</summary>
    private static int OrderViolations(List<(string Device, int N)> delivered) =>
        delivered.GroupBy(key => key.Device).Count(device =>
        {
            var firstSeen = device.Select(key => key.N).Distinct().ToList();
            return !firstSeen.SequenceEqual(firstSeen.Order());
        });

    private static (string, int) Key(JsonElement record) =>
        (record.GetProperty("deviceId").GetString()!, record.GetProperty("payload").GetProperty("n").GetInt32());

    private List<Task> StartSenders(GatewayProcess gateway, CancellationToken stop) =>
    [
        .. Enumerable.Range(0, MqttDevices).Select(device => Task.Run(() => PublishAsync(gateway.MqttPort, device, stop))),
        .. Enumerable.Range(MqttDevices, HttpDevices).Select(device => Task.Run(() => PostAsync(gateway, device, stop))),
    ];

    private async Task PublishAsync(int port, int device, CancellationToken stop)
    {
        var deviceId = $"power-mqtt-{device}";
        try
        {
            var (client, _) = await MqttTestClient.ConnectAsync(port, device % 2 == 0 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311, clientId: deviceId);
            using var _ = client;
            while (!stop.IsCancellationRequested)
            {
                var n = _next[device]++;
                var result = await client.PublishAsync($"devices/{deviceId}/telemetry", $$"""{"n":{{n}}}""");
                if (result.ReasonCode == MqttClientPublishReasonCode.Success)
                {
                    _acknowledged[(deviceId, n)] = true;
                }
            }
        }
        catch (Exception)
        {
            // The power went (or the gateway was killed) under this publish: no PUBACK, so nothing was promised.
        }
    }

    private async Task PostAsync(GatewayProcess gateway, int device, CancellationToken stop)
    {
        var deviceId = $"power-http-{device}";
        while (!stop.IsCancellationRequested)
        {
            var n = _next[device]++;
            try
            {
                using var response = await gateway.Http.PostJsonAsync(deviceId, $$"""{"n":{{n}}}""");
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    _acknowledged[(deviceId, n)] = true;
                }
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException or IOException)
            {
                return; // no 202: nothing was promised
            }
        }
    }
}
