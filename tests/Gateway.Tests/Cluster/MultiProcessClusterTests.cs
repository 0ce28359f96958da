using System.Collections.Concurrent;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Mqtt;
using MQTTnet;
using Xunit.Abstractions;

namespace Gateway.Tests.Cluster;

/// <summary>Three real gateway processes as one cluster on PostgreSQL, under MQTT load, one of them killed with SIGKILL.</summary>
[Collection(PostgreSqlCollection.Name)]
public sealed class MultiProcessClusterTests(PostgreSqlServer server, ITestOutputHelper output)
{
    private const int Devices = 18;

    [RequiresPostgreSqlFact]
    public async Task Devices_reconnect_to_another_node_after_a_kill_9_and_no_acknowledged_message_is_lost()
    {
        var connectionString = await server.CreateDatabaseAsync("processes");
        var clusterId = "gw-" + Guid.NewGuid().ToString("N")[..8];
        using var folders = new TempDirectory();
        var settings = GatewayProcess.ClusterSettings(connectionString, clusterId);
        var nodes = await Task.WhenAll(Enumerable.Range(0, 3).Select(node =>
            // Three silos starting at once on a loaded two-core machine: give them time to join.
            GatewayProcess.StartAsync(Directory.CreateDirectory(folders.Combine($"node-{node}")).FullName, settings, readyTimeout: TimeSpan.FromMinutes(3))));
        try
        {
            var alive = new bool[] { true, true, true };
            var acknowledged = new ConcurrentDictionary<(string Device, int N), bool>();
            var reconnects = 0;
            var ackedAfterKill = new ConcurrentDictionary<string, int>();
            using var stop = new CancellationTokenSource();
            var senders = Enumerable.Range(0, Devices).Select(device => Task.Run(async () =>
            {
                var deviceId = $"cluster-{device}";
                var node = device % 3;
                var n = 1;
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        var (client, _) = await MqttTestClient.ConnectAsync(nodes[node].MqttPort, clientId: deviceId);
                        using var connected = client;
                        while (!stop.IsCancellationRequested)
                        {
                            var result = await client.PublishAsync($"devices/{deviceId}/telemetry", $$"""{"n":{{n}}}""");
                            if (result.ReasonCode != MqttClientPublishReasonCode.Success)
                            {
                                throw new InvalidOperationException($"refused: {result.ReasonCode}");
                            }

                            acknowledged[(deviceId, n)] = true;
                            if (!Volatile.Read(ref alive[2]))
                            {
                                ackedAfterKill.AddOrUpdate(deviceId, 1, (_, count) => count + 1);
                            }

                            n++;
                        }
                    }
                    catch (Exception) when (!stop.IsCancellationRequested)
                    {
                        // No PUBACK: the message was not promised. Reconnect to the next live node and send it again.
                        Interlocked.Increment(ref reconnects);
                        do
                        {
                            node = (node + 1) % 3;
                        }
                        while (!Volatile.Read(ref alive[node]));
                        await Task.Delay(100);
                    }
                    catch (Exception)
                    {
                        // Stopping.
                    }
                }
            })).ToList();

            await Eventually.TrueAsync(() => acknowledged.Count >= 600, "600 PUBACKs across the cluster", TimeSpan.FromSeconds(60));
            Volatile.Write(ref alive[2], false);
            nodes[2].Kill();
            var atKill = acknowledged.Count;
            // Every device, including those connected to the killed node, gets PUBACKs again: they moved.
            await Eventually.TrueAsync(() => acknowledged.Count >= atKill + 600 && ackedAfterKill.Count == Devices,
                "600 more PUBACKs after the kill, from every device", TimeSpan.FromSeconds(120));
            await stop.CancelAsync();
            await Task.WhenAll(senders);

            List<SinkLine> delivered = [];
            HashSet<(string, int)> seen = [];
            await Eventually.TrueAsync(() =>
            {
                delivered = nodes.SelectMany(node => SinkFiles.Read(node.SinkFolder)).ToList();
                seen = delivered.Select(line => (line.DeviceId, line.Line.GetProperty("payload").GetProperty("n").GetInt32())).ToHashSet();
                return acknowledged.Keys.All(seen.Contains);
            }, "every PUBACKed message in some node's sink", TimeSpan.FromSeconds(120));

            output.WriteLine($"{acknowledged.Count} PUBACKed ({atKill} before the kill), {delivered.Count} delivered lines, {reconnects} reconnects");
            Assert.True(reconnects >= Devices / 3, $"only {reconnects} reconnects: the killed node's devices did not move");
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }
}
