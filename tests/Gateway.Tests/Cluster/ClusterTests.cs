using System.Collections.Concurrent;
using Gateway.Devices;
using Gateway.Partitions;
using Gateway.Tests.Grains;
using Gateway.Tests.Infrastructure;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Gateway.Tests.Cluster;

/// <summary>Three gateway silos as one Orleans cluster on a real PostgreSQL server.</summary>
[Collection(PostgreSqlCollection.Name)]
public sealed class ClusterTests(PostgreSqlServer server)
{
    private static string NewDeviceId() => "dev-" + Guid.NewGuid().ToString("N")[..12];

    [RequiresPostgreSqlFact]
    public async Task Membership_grain_state_and_reminders_are_kept_in_postgresql()
    {
        await using var scenario = await ClusterScenario.StartAsync(server);
        var key = "state-" + Guid.NewGuid().ToString("N");
        var probe = scenario.Cluster.GrainFactory.GetGrain<IReminderProbeGrain>(key);

        await probe.StartAsync(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(async () => (await probe.GetTicksAsync()).Count >= 2, "two reminder ticks");

        Assert.Equal(3, scenario.Scalar("SELECT count(*) FROM orleansmembershiptable WHERE status = 3"));
        Assert.Equal(1, scenario.Scalar("SELECT count(*) FROM orleansreminderstable WHERE remindername = 'probe'"));
        Assert.Equal(1, scenario.Scalar($"SELECT count(*) FROM orleansstorage WHERE grainidextensionstring = '{key}' AND payloadbinary IS NOT NULL"));
        Assert.Equal(4, scenario.Scalar("SELECT version FROM gateway_schema WHERE component = 'orleans'"));
    }

    [RequiresPostgreSqlFact]
    public async Task Messages_ingested_through_every_silo_are_delivered_once_each_in_per_device_order()
    {
        await using var scenario = await ClusterScenario.StartAsync(server);
        var silos = scenario.Cluster.GetActiveSilos().ToList();
        Assert.Equal(3, silos.Count);
        var deviceIds = Enumerable.Range(0, 12).Select(_ => NewDeviceId()).ToList();
        const int messagesPerDevice = 30;

        // Each message of a device enters the cluster at the next silo in turn: the device grain and its order follow.
        await Task.WhenAll(deviceIds.Select(async deviceId =>
        {
            for (var n = 1; n <= messagesPerDevice; n++)
            {
                var grains = ClusterScenario.GrainsOf(silos[n % silos.Count]);
                var result = await grains.GetGrain<IDeviceGrain>(deviceId).AcceptAsync([ClusterScenario.Json(deviceId, n)]);
                Assert.True(result.IsAccepted, result.Detail);
                Assert.Equal(n, result.Messages[0].Sequence);
            }
        }));

        await Eventually.TrueAsync(() => scenario.Cloud.Accepted.Count() >= deviceIds.Count * messagesPerDevice, "every message at the cloud");

        var delivered = scenario.DeliveredByDevice();
        foreach (var deviceId in deviceIds)
        {
            Assert.Equal(Enumerable.Range(1, messagesPerDevice).Select(n => (long)n), delivered[deviceId].Select(record => record.Sequence));
        }

        await Eventually.TrueAsync(() => scenario.Scalar("SELECT count(*) FROM wal_delivery WHERE state <> 2") == 0, "every delivery acked in the WAL");
    }

    [RequiresPostgreSqlFact]
    public async Task A_killed_silo_loses_no_acknowledged_message_and_its_partitions_and_reminders_resume_on_the_survivors()
    {
        await using var scenario = await ClusterScenario.StartAsync(server);
        var cluster = scenario.Cluster;
        var probes = Enumerable.Range(0, 6).Select(i => cluster.GrainFactory.GetGrain<IReminderProbeGrain>($"kill-{i}-{Guid.NewGuid():N}")).ToList();
        foreach (var probe in probes)
        {
            await probe.StartAsync(TimeSpan.FromSeconds(1));
        }

        var deviceIds = Enumerable.Range(0, 24).Select(_ => NewDeviceId()).ToList();
        var acknowledged = new ConcurrentDictionary<string, byte>();
        var victim = await SiloHostingMostPartitionsAsync(cluster, deviceIds);
        var killed = false;
        var survivors = () => cluster.GetActiveSilos().Where(silo => !killed || silo.SiloAddress != victim.Handle.SiloAddress).ToList();

        var load = Task.WhenAll(deviceIds.Select(deviceId => Task.Run(async () =>
        {
            for (var n = 1; n <= 40; n++)
            {
                await SendUntilAcknowledgedAsync(deviceId, n);
            }
        })));

        await Eventually.TrueAsync(() => acknowledged.Count >= 200, "load under way");
        Assert.True(victim.Partitions > 0, "the killed silo hosted no partition; the test would prove nothing");
        await cluster.KillSiloAsync(victim.Handle);
        killed = true;
        var killedAt = DateTimeOffset.UtcNow;
        await load;

        // Every message the cluster acknowledged reaches the cloud, whichever silo took it and whichever sends it.
        await Eventually.TrueAsync(() =>
        {
            var delivered = scenario.Cloud.Accepted.Select(record => record.GetProperty("messageId").GetString()!).ToHashSet();
            return acknowledged.Keys.All(delivered.Contains);
        }, "every acknowledged message delivered", TimeSpan.FromSeconds(120));
        await Eventually.TrueAsync(() => scenario.Scalar("SELECT count(*) FROM wal_delivery WHERE state IN (0, 1)") == 0,
            "no delivery left pending in the WAL", TimeSpan.FromSeconds(60));

        // Redelivery after the kill may repeat records (at-least-once), but a device's records are first seen in order.
        foreach (var (_, records) in scenario.DeliveredByDevice())
        {
            var firstSeen = records.Select(record => record.Sequence).Distinct().ToList();
            Assert.Equal(firstSeen.Order(), firstSeen);
        }

        foreach (var partition in victim.PartitionKeys)
        {
            var status = await cluster.GrainFactory.GetGrain<IPartitionGrain>(partition).GetStatusAsync();
            Assert.Equal(0, status.ConsecutiveFailures);
        }

        // Reminders keep firing on the survivors, including those the dead silo's ring range served.
        await Eventually.TrueAsync(async () =>
        {
            foreach (var probe in probes)
            {
                if (!(await probe.GetTicksAsync()).Any(tick => tick > killedAt.AddSeconds(1)))
                {
                    return false;
                }
            }

            return true;
        }, "every probe reminder ticks after the kill", TimeSpan.FromSeconds(90));

        async Task SendUntilAcknowledgedAsync(string deviceId, int n)
        {
            var deadline = DateTime.UtcNow.AddSeconds(90);
            for (var attempt = 0; ; attempt++)
            {
                var silos = survivors();
                var grains = ClusterScenario.GrainsOf(silos[(n + attempt) % silos.Count]);
                try
                {
                    var result = await grains.GetGrain<IDeviceGrain>(deviceId).AcceptAsync([ClusterScenario.Json(deviceId, n)]);
                    if (result.IsAccepted)
                    {
                        acknowledged.TryAdd(result.Messages[0].MessageId, 0);
                        return;
                    }
                }
                catch (Exception error) when (DateTime.UtcNow < deadline && error is not Xunit.Sdk.XunitException)
                {
                    // Not acknowledged: the device sends it again, as an MQTT client would after reconnecting.
                }

                await Task.Delay(50);
            }
        }
    }

    [RequiresPostgreSqlFact]
    public async Task A_dead_silos_partitions_are_woken_on_the_survivors_without_waiting_for_their_reminder()
    {
        // Reminders ten minutes apart: only the failover wake-up can resume the dead silo's partitions in time.
        await using var scenario = await ClusterScenario.StartAsync(server, reminderPeriod: TimeSpan.FromMinutes(10));
        var cluster = scenario.Cluster;
        scenario.Cloud.Respond = _ => (503, null);
        var deviceIds = Enumerable.Range(0, 24).Select(_ => NewDeviceId()).ToList();
        var victim = await SiloHostingMostPartitionsAsync(cluster, deviceIds);
        Assert.True(victim.Partitions > 0, "the killed silo hosted no partition; the test would prove nothing");

        await cluster.KillSiloAsync(victim.Handle);
        // No new message arrives after the kill, so nothing else wakes the partitions that lived on the dead silo.
        scenario.Cloud.Respond = _ => (200, null);

        await Eventually.TrueAsync(() => scenario.Scalar("SELECT count(*) FROM wal_delivery WHERE state IN (0, 1)") == 0,
            "every pending record delivered long before the next reminder", TimeSpan.FromSeconds(90));
        var delivered = scenario.DeliveredByDevice();
        Assert.All(deviceIds, deviceId => Assert.Contains(deviceId, delivered.Keys));
    }

    /// <summary>Activates the devices' partitions and returns the silo holding most of them.</summary>
    private static async Task<(SiloHandle Handle, int Partitions, List<string> PartitionKeys)> SiloHostingMostPartitionsAsync(
        TestCluster cluster, IReadOnlyList<string> deviceIds)
    {
        foreach (var deviceId in deviceIds)
        {
            await cluster.GrainFactory.GetGrain<IDeviceGrain>(deviceId).AcceptAsync([ClusterScenario.Json(deviceId, 0)]);
        }

        var management = cluster.GrainFactory.GetGrain<IManagementGrain>(0);
        var statistics = await management.GetDetailedGrainStatistics([Orleans.Serialization.TypeSystem.RuntimeTypeNameFormatter.Format(typeof(PartitionGrain))]);
        var best = statistics.GroupBy(statistic => statistic.SiloAddress).MaxBy(group => group.Count())!;
        var handle = cluster.GetActiveSilos().Single(silo => silo.SiloAddress.Equals(best.Key));
        return (handle, best.Count(), best.Select(statistic => statistic.GrainId.Key.ToString()!).ToList());
    }
}
