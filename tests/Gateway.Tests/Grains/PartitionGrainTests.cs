using System.Text;
using Gateway.Devices;
using Gateway.Partitions;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;

namespace Gateway.Tests.Grains;

[Collection(ClusterCollection.Name)]
public sealed class PartitionGrainTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Records_a_sink_keeps_failing_become_dead_after_max_attempts_with_the_error()
    {
        var deviceId = "dead-" + Guid.NewGuid().ToString("N")[..12];
        var device = fixture.Cluster.GrainFactory.GetGrain<IDeviceGrain>(deviceId);
        await device.AcceptAsync([new IncomingMessage(Encoding.UTF8.GetBytes("{}"), null, null, null, "test", "devices/test/telemetry")]);

        const string deadForDevice = """
            SELECT count(*) FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq
            WHERE m.device_id = $d AND d.sink = $sink AND d.state = 3 AND d.attempts = $attempts AND d.last_error LIKE '%not-a-folder%'
            """;
        await Eventually.TrueAsync(() => WalDatabase.Scalar(fixture.DatabasePath, deadForDevice,
            ("$d", deviceId), ("$sink", ClusterFixture.BrokenSink), ("$attempts", ClusterFixture.MaxAttempts)) == 1,
            "the broken sink's delivery dead-lettered after max attempts");

        // The same message was delivered to the healthy sink: each delivery has its own lifecycle.
        await Eventually.TrueAsync(() => SinkFiles.Read(fixture.SinkFolder).Any(line => line.DeviceId == deviceId), "file sink delivery");
        var partition = (await device.GetStatusAsync()).Partition;
        var status = await fixture.Cluster.GrainFactory.GetGrain<IPartitionGrain>(new PartitionKey(ClusterFixture.BrokenSink, partition).ToString()).GetStatusAsync();
        Assert.True(status.DeadLettered >= 1);
        Assert.Contains("not-a-folder", status.LastError);
    }

    [Fact]
    public async Task A_partition_returns_in_flight_records_to_the_queue_when_it_activates()
    {
        // An InFlight record left by a crashed activation: write one straight into the WAL, then wake the grain.
        var store = (IWalStore)fixture.Cluster.GetSiloServiceProvider().GetService(typeof(IWalStore))!;
        var deviceId = "crashed-" + Guid.NewGuid().ToString("N")[..12];
        var partition = new PartitionKey("file", 900 + Random.Shared.Next(50));
        await store.AppendAsync(new WalAppend(deviceId,
            [new WalMessage($"gw:{deviceId}:1", 1, null, DateTimeOffset.UtcNow, MediaTypes.Json, "{}"u8.ToArray(), null, $"devices/{deviceId}/telemetry", [partition])]));
        await store.LeaseAsync(partition, 10);

        await fixture.Cluster.GrainFactory.GetGrain<IPartitionGrain>(partition.ToString()).WakeAsync();

        await Eventually.TrueAsync(() => SinkFiles.Read(fixture.SinkFolder).Any(line => line.DeviceId == deviceId), "the recovered record delivered");
    }

    [Fact]
    public async Task A_record_another_activation_left_in_flight_is_delivered_at_the_next_reminder_tick()
    {
        // A silo declared dead may still lease a record before it stops: the partition's live activation must not
        // leave it InFlight until its own next activation. Paused, the grain leases nothing while the "zombie" does.
        var store = (IWalStore)fixture.Cluster.GetSiloServiceProvider().GetService(typeof(IWalStore))!;
        var partition = new PartitionKey("file", 960 + Random.Shared.Next(30));
        var grain = fixture.Cluster.GrainFactory.GetGrain<IPartitionGrain>(partition.ToString());
        await grain.SetPausedAsync(true);
        var stranded = "stranded-" + Guid.NewGuid().ToString("N")[..12];
        var later = "later-" + Guid.NewGuid().ToString("N")[..12];
        foreach (var deviceId in new[] { stranded, later })
        {
            await store.AppendAsync(new WalAppend(deviceId,
                [new WalMessage($"gw:{deviceId}:1", 1, null, DateTimeOffset.UtcNow, MediaTypes.Json, "{}"u8.ToArray(), null, $"devices/{deviceId}/telemetry", [partition])]));
        }

        Assert.Equal(stranded, Assert.Single(await store.LeaseAsync(partition, 1)).DeviceId);
        await grain.SetPausedAsync(false);

        await Eventually.TrueAsync(() => SinkFiles.Read(fixture.SinkFolder).Any(line => line.DeviceId == later), "the record behind it delivered");
        await Eventually.TrueAsync(() => SinkFiles.Read(fixture.SinkFolder).Any(line => line.DeviceId == stranded),
            "the stranded record recovered by a reminder tick and delivered", TimeSpan.FromSeconds(20));
    }
}
