using Gateway.DeadLetters;
using Gateway.Lanes;
using Gateway.Partitions;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Wal;

/// <summary>Priority lanes in the WAL, which every store must keep alike; one derived class per store.</summary>
public abstract class WalLaneTests
{
    protected const int Critical = 0;
    protected const int Bulk = 9;
    protected static readonly PartitionKey Partition = new("file", 0);

    /// <summary>Opens a fresh store of the kind under test.</summary>
    protected abstract IWalUnderTest Open();

    protected static WalAppend Append(string deviceId, long firstSequence, int count, int lane, DateTimeOffset? receivedAt = null) =>
        WalFixture.Append(deviceId, firstSequence, count, Partition, lane, receivedAt);

    [Fact]
    public async Task A_lease_takes_the_highest_lane_first_and_each_lane_in_wal_order()
    {
        using var wal = Open();
        await wal.Store.AppendAsync(Append("a", 1, 3, Bulk));
        await wal.Store.AppendAsync(Append("a", 4, 2, Critical));
        await wal.Store.AppendAsync(Append("b", 1, 1, Lane.DefaultPriority));
        await wal.Store.AppendAsync(Append("c", 1, 1, Critical));

        var leased = await wal.Store.LeaseAsync(Partition, 10);

        Assert.Equal(["gw:a:4", "gw:a:5", "gw:c:1", "gw:b:1", "gw:a:1", "gw:a:2", "gw:a:3"], leased.Select(record => record.MessageId));
        Assert.Equal([Critical, Critical, Critical, Lane.DefaultPriority, Bulk, Bulk, Bulk], leased.Select(record => record.Lane));
    }

    [Fact]
    public async Task An_alarm_stored_while_bulk_is_in_flight_is_the_next_lease_and_failed_bulk_queues_behind_it()
    {
        using var wal = Open();
        await wal.Store.AppendAsync(Append("a", 1, 4, Bulk));
        var bulk = await wal.Store.LeaseAsync(Partition, 2);
        await wal.Store.AppendAsync(Append("a", 5, 1, Critical));

        Assert.Equal(["gw:a:5"], (await wal.Store.LeaseAsync(Partition, 1)).Select(record => record.MessageId));
        await wal.Store.FailAsync(bulk, new DeliveryFailure("503", false, DateTimeOffset.UtcNow, 10, DateTimeOffset.MinValue));
        Assert.Equal(["gw:a:1", "gw:a:2", "gw:a:3", "gw:a:4"], (await wal.Store.LeaseAsync(Partition, 10)).Select(record => record.MessageId));
    }

    [Fact]
    public async Task Pending_lanes_give_each_partitions_highest_and_lowest_lane_counting_records_being_sent()
    {
        using var wal = Open();
        var other = new PartitionKey(Partition.Sink, 2);
        await wal.Store.AppendAsync(Append("a", 1, 2, Bulk));
        await wal.Store.AppendAsync(Append("a", 3, 1, Critical));
        await wal.Store.AppendAsync(WalFixture.Append("b", 1, 1, other, Lane.DefaultPriority));
        await wal.Store.AppendAsync(WalFixture.Append("c", 1, 1, new PartitionKey("elsewhere", 0), Critical));

        var sending = await wal.Store.LeaseAsync(other, 10);
        var pending = await wal.Store.GetPendingLanesAsync(Partition.Sink, partitionCount: 8);

        Assert.Equal(new Dictionary<int, PendingLanes> { [0] = new(Critical, Bulk), [2] = new(Lane.DefaultPriority, Lane.DefaultPriority) }, pending);
        await wal.Store.AckAsync(sending);
        Assert.Equal([0], (await wal.Store.GetPendingLanesAsync(Partition.Sink, partitionCount: 8)).Keys);
    }

    [Fact]
    public async Task A_lease_up_to_a_lane_takes_no_lower_lane()
    {
        using var wal = Open();
        await wal.Store.AppendAsync(Append("a", 1, 2, Bulk));
        await wal.Store.AppendAsync(Append("a", 3, 1, Lane.DefaultPriority));
        await wal.Store.AppendAsync(Append("a", 4, 1, Critical));

        Assert.Equal([4, 3], (await wal.Store.LeaseAsync(Partition, 10, lastLane: Lane.DefaultPriority)).Select(record => record.Sequence));
        Assert.Equal([1, 2], (await wal.Store.LeaseAsync(Partition, 10)).Select(record => record.Sequence));
    }

    [Fact]
    public async Task Expiry_makes_only_the_lanes_old_enqueued_records_dead_with_the_reason_and_replay_restarts_their_time_to_live()
    {
        using var wal = Open();
        var twoHoursAgo = DateTimeOffset.UtcNow - TimeSpan.FromHours(2);
        await wal.Store.AppendAsync(Append("old-bulk", 1, 3, Bulk, twoHoursAgo));
        await wal.Store.AppendAsync(Append("old-critical", 1, 2, Critical, twoHoursAgo));
        await wal.Store.AppendAsync(Append("new-bulk", 1, 1, Bulk));
        var cutoff = DateTimeOffset.UtcNow - TimeSpan.FromHours(1);

        var expired = await wal.Store.ExpireAsync(Bulk, cutoff, limit: 100);

        Assert.Equal(3, expired.Count);
        Assert.Equal(3 * "{\"n\":1}".Length, expired.Bytes);
        var dead = await wal.Store.ListDeadAsync(new DeadLetterFilter(), 0, 10);
        Assert.Equal(["gw:old-bulk:1", "gw:old-bulk:2", "gw:old-bulk:3"], dead.Select(letter => letter.MessageId));
        Assert.All(dead, letter => Assert.Equal(DeliveryFailure.Expired, letter.LastError));
        var statistics = wal.Store.GetStatistics();
        Assert.Equal((3, 3), (statistics.PendingRecords, statistics.DeadRecords));

        var replayed = await wal.Store.ReplayDeadAsync(new DeadLetterFilter());

        Assert.Equal(3, replayed.Count);
        Assert.Equal(0, (await wal.Store.ExpireAsync(Bulk, cutoff, limit: 100)).Count);
        Assert.Equal(6, wal.Store.GetStatistics().PendingRecords);
        // Once the time to live has passed again, counted from the replay, they expire again, with the new record.
        Assert.Equal(4, (await wal.Store.ExpireAsync(Bulk, DateTimeOffset.UtcNow + TimeSpan.FromMinutes(1), limit: 100)).Count);
    }

    [Fact]
    public async Task Expiry_leaves_a_record_a_partition_is_sending_to_its_attempt()
    {
        using var wal = Open();
        var longAgo = DateTimeOffset.UtcNow - TimeSpan.FromHours(2);
        await wal.Store.AppendAsync(Append("a", 1, 3, Bulk, longAgo));
        var sending = await wal.Store.LeaseAsync(Partition, 1);

        var expired = await wal.Store.ExpireAsync(Bulk, DateTimeOffset.UtcNow, limit: 100);
        await wal.Store.AckAsync(sending);

        Assert.Equal(2, expired.Count);
        Assert.Equal(1, wal.CountDeliveries("file", DeliveryState.Acked));
        Assert.Equal(2, wal.CountDeliveries("file", DeliveryState.Dead));
        Assert.Equal(0, wal.Store.GetStatistics().PendingRecords);
    }

    [Fact]
    public async Task Lane_backlogs_count_each_lanes_pending_records_bytes_and_oldest_arrival_the_same_after_a_reopen()
    {
        using var wal = Open();
        var first = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()) - TimeSpan.FromMinutes(5);
        await wal.Store.AppendAsync(Append("a", 1, 3, Bulk, first));
        await wal.Store.AppendAsync(Append("b", 1, 2, Critical, first + TimeSpan.FromMinutes(1)));
        await wal.Store.AppendAsync(Append("c", 1, 1, Critical, first + TimeSpan.FromMinutes(2)));
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(Partition, 1));
        var messageBytes = "{\"n\":1}".Length;

        IReadOnlyList<LaneBacklog> expected =
        [
            new(Critical, 2, 2 * messageBytes, first + TimeSpan.FromMinutes(1)),
            new(Bulk, 3, 3 * messageBytes, first),
        ];
        Assert.Equal(expected, (await wal.Store.GetLaneBacklogsAsync()).OrderBy(backlog => backlog.Lane));

        wal.Reopen();
        await PendingBytesCounted(wal);
        Assert.Equal(expected, (await wal.Store.GetLaneBacklogsAsync()).OrderBy(backlog => backlog.Lane));
    }

    [Fact]
    public async Task Compaction_service_expires_only_lanes_with_a_time_to_live_once_it_has_passed()
    {
        using var wal = Open();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lanes = new LaneCatalog([
            new Lane(new LaneOptions { Name = "critical", Priority = Critical, Topics = ["devices/+/telemetry/alarms"] }),
            new Lane(new LaneOptions { Name = "bulk", Priority = Bulk, TimeToLive = TimeSpan.FromHours(1) }),
        ]);
        var activity = new LaneActivity(WalFixture.NewMetrics());
        var service = new WalCompactionService(wal.Store, lanes, activity, Options.Create(new WalOptions()), clock, NullLogger<WalCompactionService>.Instance);
        await wal.Store.AppendAsync(Append("a", 1, 2, Bulk, clock.GetUtcNow()));
        await wal.Store.AppendAsync(Append("b", 1, 2, Critical, clock.GetUtcNow()));

        clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, await service.ExpireOnceAsync());

        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(2, await service.ExpireOnceAsync());
        Assert.Equal(2, wal.CountDeliveries("file", DeliveryState.Dead));
        Assert.Equal(2, activity.ExpiredOf("bulk"));
        Assert.Equal(0, activity.ExpiredOf("critical"));
    }

    /// <summary>Waits for a store's start-up byte count, where it has one.</summary>
    protected virtual Task PendingBytesCounted(IWalUnderTest wal) => Task.CompletedTask;
}

public sealed class SqliteWalLaneTests : WalLaneTests
{
    protected override IWalUnderTest Open() => new SqliteWalUnderTest();

    protected override Task PendingBytesCounted(IWalUnderTest wal) => ((SqliteWalUnderTest)wal).Fixture.Store.PendingBytesCounted;

    [Fact]
    public async Task Delivery_rows_written_after_a_crash_keep_their_messages_lane()
    {
        using var wal = new WalFixture();
        await wal.Store.AppendAsync(Append("a", 1, 2, Bulk));
        await wal.Store.AppendAsync(Append("a", 3, 1, Critical));
        Assert.Equal(0, WalDatabase.Scalar(wal.Database.FilePath, "SELECT count(*) FROM wal_delivery"));

        using var crashed = new TempDirectory();
        foreach (var file in Directory.GetFiles(wal.Database.DataPath, SqliteDatabase.FileName + "*"))
        {
            File.Copy(file, Path.Combine(crashed.Path, Path.GetFileName(file)));
        }

        using var reopened = WalFixture.OpenStore(new SqliteDatabase(crashed.Path), new WalOptions(), new WalFixture.RecordingListener(), WalFixture.NewMetrics());
        Assert.Equal([3, 1, 2], (await reopened.LeaseAsync(Partition, 10)).Select(record => record.Sequence));
    }
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlWalLaneTests(PostgreSqlServer server) : WalLaneTests
{
    protected override IWalUnderTest Open() => PostgreSqlWalUnderTest.CreateAsync(server).GetAwaiter().GetResult();
}
