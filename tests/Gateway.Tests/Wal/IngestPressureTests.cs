using Gateway.Devices;
using Gateway.Lanes;
using Gateway.Partitions;
using Gateway.Wal;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Wal;

public sealed class IngestPressureTests
{
    private static IngestPressure Pressure(WalFixture wal) =>
        new(wal.Store, wal.Database, Options.Create(wal.Options), TimeProvider.System);

    [Fact]
    public void Below_every_limit_ingest_is_open()
    {
        using var wal = new WalFixture();

        Assert.Equal(RefusalReason.None, Pressure(wal).Check().Reason);
    }

    [Fact]
    public void A_data_disk_below_the_free_space_floor_refuses_with_the_numbers()
    {
        using var wal = new WalFixture(new WalOptions { DiskFreeFloorBytes = long.MaxValue });

        var (reason, detail) = Pressure(wal).Check();

        Assert.Equal(RefusalReason.DiskFull, reason);
        Assert.Contains("below the floor", detail);
    }

    [Fact]
    public async Task Undelivered_bytes_above_the_high_water_mark_refuse()
    {
        using var wal = new WalFixture(new WalOptions { HighWaterBytes = 20 });
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 3, new PartitionKey("file", 0)));

        var (reason, detail) = Pressure(wal).Check();

        Assert.Equal(RefusalReason.Backpressure, reason);
        Assert.Contains("undelivered bytes", detail);
    }
}

public sealed class LaneIngestPressureTests
{
    private static readonly PartitionKey Partition = new("file", 0);

    private static Lane Lane(string name, int priority, double share = 1, long? diskFloor = null) =>
        new(new LaneOptions { Name = name, Priority = priority, Share = share, DiskFreeFloorBytes = diskFloor });

    private static IngestPressure Pressure(WalFixture wal) =>
        new(wal.Store, wal.Database, Options.Create(wal.Options), TimeProvider.System);

    [Fact]
    public async Task A_lane_is_refused_at_its_share_of_the_high_water_marks_while_a_lane_with_the_whole_share_is_accepted_to_the_limit()
    {
        using var wal = new WalFixture(new WalOptions { HighWaterMessages = 10 });
        var bulk = Lane("bulk", 9, share: 0.8);
        var critical = Lane("critical", 0);
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 7, Partition));
        var pressure = Pressure(wal);
        Assert.Equal(RefusalReason.None, pressure.Check(bulk).Reason);

        await wal.Store.AppendAsync(WalFixture.Append("a", 8, 1, Partition));

        var (reason, detail) = pressure.Check(bulk);
        Assert.Equal(RefusalReason.Backpressure, reason);
        Assert.Equal("Lane 'bulk' is full: The gateway holds 8 undelivered records, at or above the lane's limit of 8 (80 % of the gateway's).", detail);
        Assert.Equal(RefusalReason.None, pressure.Check(critical).Reason);
        Assert.Equal(RefusalReason.None, pressure.Check().Reason);

        await wal.Store.AppendAsync(WalFixture.Append("a", 9, 2, Partition));
        Assert.Equal(RefusalReason.Backpressure, pressure.Check(critical).Reason);
    }

    [Fact]
    public async Task A_lane_shares_the_byte_mark_too()
    {
        using var wal = new WalFixture(new WalOptions { HighWaterBytes = 100 });
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 8, Partition));

        var (reason, detail) = Pressure(wal).Check(Lane("bulk", 9, share: 0.5));

        Assert.Equal(RefusalReason.Backpressure, reason);
        Assert.Contains("undelivered bytes, at or above the lane's limit of 50", detail);
        Assert.Equal(RefusalReason.None, Pressure(wal).Check(Lane("critical", 0)).Reason);
    }

    [Fact]
    public void A_lane_with_a_disk_floor_above_the_gateways_is_refused_while_the_others_are_accepted()
    {
        using var wal = new WalFixture(new WalOptions { DiskFreeFloorBytes = 0 });
        var pressure = Pressure(wal);

        var (reason, detail) = pressure.Check(Lane("bulk", 9, diskFloor: long.MaxValue));

        Assert.Equal(RefusalReason.DiskFull, reason);
        Assert.StartsWith("Lane 'bulk' is full: The data disk has", detail);
        Assert.Equal(RefusalReason.None, pressure.Check(Lane("critical", 0)).Reason);
        Assert.Equal(RefusalReason.None, pressure.Check(Lane("low-floor", 5, diskFloor: 1)).Reason);
    }
}
