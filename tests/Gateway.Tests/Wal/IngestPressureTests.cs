using Gateway.Devices;
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
