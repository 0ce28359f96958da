using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Mqtt;
using MQTTnet;
using Xunit.Abstractions;

namespace Gateway.Tests.Cluster;

/// <summary>
/// Cluster mode on PostgreSQL replicated by Patroni with a synchronous standby (docs/cluster.md): real servers, real
/// gateway processes, real MQTT clients. Each test starts its own Patroni cluster, so it runs beside the others.
/// </summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    private const int Devices = 8;

    [RequiresPatroniFact]
    public async Task When_the_primary_dies_the_standby_takes_over_and_every_acknowledged_message_is_delivered_in_device_order()
    {
        await using var database = await PatroniCluster.StartAsync(nodes: 3);
        using var folders = new TempDirectory();
        var clusterId = "failover-" + Guid.NewGuid().ToString("N")[..8];
        var settings = GatewayProcess.ClusterSettings(database.ConnectionString(), clusterId);
        var gateways = await Task.WhenAll(Enumerable.Range(0, 2).Select(node =>
            GatewayProcess.StartAsync(Directory.CreateDirectory(folders.Combine($"gateway-{node}")).FullName, settings, readyTimeout: TimeSpan.FromMinutes(2))));
        try
        {
            var clock = Stopwatch.StartNew();
            var acknowledged = new ConcurrentDictionary<(string Device, int N), bool>();
            var firstAckSentAfterKill = new ConcurrentDictionary<string, TimeSpan>();
            var killedAtTicks = long.MaxValue;
            var refusals = 0;
            using var stop = new CancellationTokenSource();
            var senders = Enumerable.Range(0, Devices).Select(device => Task.Run(async () =>
            {
                var deviceId = $"failover-{device}";
                var gateway = gateways[device % gateways.Length];
                var n = 1;
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        var (client, _) = await MqttTestClient.ConnectAsync(gateway.MqttPort, clientId: deviceId);
                        using var connected = client;
                        while (!stop.IsCancellationRequested)
                        {
                            // The device's own message id: a retransmission after an unknown outcome is stored once.
                            var sentAt = clock.Elapsed.Ticks;
                            var result = await client.PublishAsync($"devices/{deviceId}/telemetry", $$"""{"n":{{n}}}""",
                                userProperties: ("message-id", n.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                            if (result.ReasonCode != MqttClientPublishReasonCode.Success)
                            {
                                // Refused while no primary answers: not promised, so sent again.
                                Interlocked.Increment(ref refusals);
                                await Task.Delay(200, CancellationToken.None);
                                continue;
                            }

                            acknowledged[(deviceId, n)] = true;
                            // Sent after the kill, so committed by the promoted standby, not by the old primary.
                            if (sentAt > Interlocked.Read(ref killedAtTicks))
                            {
                                firstAckSentAfterKill.TryAdd(deviceId, clock.Elapsed);
                            }

                            n++;
                        }
                    }
                    catch (Exception) when (!stop.IsCancellationRequested)
                    {
                        // No PUBACK (the gateway closed the connection on an unknown outcome): reconnect, send it again.
                        Interlocked.Increment(ref refusals);
                        await Task.Delay(200, CancellationToken.None);
                    }
                    catch (Exception)
                    {
                        // Stopping.
                    }
                }
            })).ToList();

            await Eventually.TrueAsync(() => acknowledged.Count >= 300, "300 PUBACKs before the failover", TimeSpan.FromSeconds(60));
            var primary = await database.WaitForLeaderAsync(TimeSpan.FromSeconds(5));
            var atKill = acknowledged.Count;
            primary.Kill();
            var killedAt = clock.Elapsed;
            Interlocked.Exchange(ref killedAtTicks, killedAt.Ticks);

            var promoted = await database.WaitForLeaderAsync(TimeSpan.FromSeconds(90), not: primary);
            var promotedAt = clock.Elapsed;
            // Every device is acknowledged again, by the standby that took over: no restart of any gateway.
            await database.WithStateOnTimeoutAsync(() => Eventually.TrueAsync(() => acknowledged.Count >= atKill + 300 && firstAckSentAfterKill.Count == Devices,
                "300 more PUBACKs after the failover, from every device", TimeSpan.FromSeconds(120)));
            await stop.CancelAsync();
            await Task.WhenAll(senders);

            var delivered = new List<SinkLine>();
            await Eventually.TrueAsync(() =>
            {
                delivered = gateways.SelectMany(gateway => SinkFiles.Read(gateway.SinkFolder)).ToList();
                var seen = delivered.Select(line => (line.DeviceId, N(line))).ToHashSet();
                return acknowledged.Keys.All(seen.Contains);
            }, "every PUBACKed message in a sink", TimeSpan.FromSeconds(120));

            // Every delivery reached a terminal state: none stranded Enqueued or InFlight by the leases of the failover.
            await Eventually.TrueAsync(async () => await database.CountAsync("SELECT count(*) FROM wal_delivery WHERE state IN (0, 1)") == 0,
                "no delivery left Enqueued or InFlight", TimeSpan.FromSeconds(60));

            // Per device, each gateway's sink file has its messages in order (a redelivery after the failover repeats
            // an earlier message, which a receiver drops by message id; a new message never overtakes an older one).
            foreach (var gateway in gateways)
            {
                foreach (var device in SinkFiles.Read(gateway.SinkFolder).GroupBy(line => line.DeviceId))
                {
                    var firsts = device.Select(N).Distinct().ToList();
                    Assert.True(firsts.SequenceEqual(firsts.Order()), $"{device.Key} out of order in {gateway.SinkFolder}: {string.Join(',', firsts)}");
                }
            }

            var resumed = firstAckSentAfterKill.Values.Max() - killedAt;
            output.WriteLine($"{acknowledged.Count} PUBACKed ({atKill} before the kill), {delivered.Count} delivered lines, {refusals} refusals; " +
                $"{primary.Name} killed at {killedAt.TotalSeconds:F1} s, {promoted.Name} leader {(promotedAt - killedAt).TotalSeconds:F1} s later, " +
                $"every device acknowledged again {resumed.TotalSeconds:F1} s after the kill");
        }
        finally
        {
            foreach (var gateway in gateways)
            {
                await gateway.DisposeAsync();
            }
        }
    }

    [RequiresPatroniFact]
    public async Task With_no_synchronous_standby_left_a_message_is_refused_not_acknowledged_and_its_retransmission_is_stored_once()
    {
        await using var database = await PatroniCluster.StartAsync(nodes: 2);
        using var folder = new TempDirectory();
        var clusterId = "standby-" + Guid.NewGuid().ToString("N")[..8];
        // Npgsql cancels a statement after 3 s; cancelling a commit's wait for the standby makes PostgreSQL keep the
        // commit on the primary alone and answer success with a warning, which the gateway must not take as durable.
        await using var gateway = await GatewayProcess.StartAsync(folder.Path, GatewayProcess.ClusterSettings(database.ConnectionString(commandTimeoutSeconds: 3), clusterId),
            readyTimeout: TimeSpan.FromMinutes(2));
        const string deviceId = "lonely-primary";
        var topic = $"devices/{deviceId}/telemetry";
        var (client, _) = await MqttTestClient.ConnectAsync(gateway.MqttPort, clientId: deviceId);
        using var connected = client;
        Assert.Equal(MqttClientPublishReasonCode.Success, (await client.PublishAsync(topic, """{"n":1}""", userProperties: ("message-id", "1"))).ReasonCode);

        var primary = await database.WaitForLeaderAsync(TimeSpan.FromSeconds(5));
        var standby = database.Nodes.Single(node => node != primary);
        standby.Kill();

        // The commit waits for a standby that is gone; when Npgsql gives up on it, the commit exists on the primary
        // alone, and the device must not be told it is stored. Sent again while the standby is still down, it is
        // refused again: the stored copy is not yet durable either.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var refused = await client.PublishAsync(topic, """{"n":2}""", userProperties: ("message-id", "2"));
            Assert.Equal(MqttClientPublishReasonCode.UnspecifiedError, refused.ReasonCode);
            Assert.Contains("retry later", refused.ReasonString, StringComparison.Ordinal);
        }

        // Over HTTP the same refusal is a 503 that says when to try again.
        using (var posted = await gateway.Http.PostAsync("/v1/devices/lonely-http/telemetry", new StringContent("""{"n":1}""", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, posted.StatusCode);
            Assert.NotNull(posted.Headers.RetryAfter);
        }

        await Eventually.TrueAsync(async () =>
        {
            using var readiness = await gateway.Operations.GetAsync("/readyz");
            return readiness.StatusCode == HttpStatusCode.ServiceUnavailable;
        }, "readiness to report the WAL not writable", TimeSpan.FromSeconds(60));

        standby.Start();
        await database.WaitForSynchronousStandbyAsync(TimeSpan.FromSeconds(90));
        await Eventually.TrueAsync(async () =>
            (await client.PublishAsync(topic, """{"n":2}""", userProperties: ("message-id", "2"))).ReasonCode == MqttClientPublishReasonCode.Success,
            "a PUBACK for message 2 once the standby is back", TimeSpan.FromSeconds(60));
        Assert.Equal(MqttClientPublishReasonCode.Success, (await client.PublishAsync(topic, """{"n":3}""", userProperties: ("message-id", "3"))).ReasonCode);

        // Message 3 was accepted after message 2, so once it is delivered message 2 has been too, however many copies.
        var lines = new List<SinkLine>();
        await Eventually.TrueAsync(() =>
        {
            lines = SinkFiles.Read(gateway.SinkFolder).Where(line => line.DeviceId == deviceId).ToList();
            return lines.Any(line => N(line) == 3);
        }, "message 3 in the sink", TimeSpan.FromSeconds(60));
        Assert.Equal([1, 2, 3], lines.Select(N).Distinct().ToList());
        // Stored once: every copy of message 2 the sink holds is the same WAL record (one gateway message id).
        Assert.Single(lines.Where(line => N(line) == 2).Select(line => line.MessageId).Distinct());
    }

    private static int N(SinkLine line) => line.Line.GetProperty("payload").GetProperty("n").GetInt32();
}
