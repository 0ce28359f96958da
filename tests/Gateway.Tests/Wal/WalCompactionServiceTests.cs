using Gateway.Partitions;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Wal;

public sealed class WalCompactionServiceTests
{
    [Fact]
    public async Task Acked_records_are_kept_for_the_retention_window_then_deleted()
    {
        using var wal = new WalFixture();
        var partition = new PartitionKey("file", 0);
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 4, partition));
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(partition, 3));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var compaction = new WalCompactionService(wal.Store, Options.Create(new WalOptions { AckedRetention = TimeSpan.FromHours(1) }),
            clock, NullLogger<WalCompactionService>.Instance);

        clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, await compaction.CompactOnceAsync());

        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(3, await compaction.CompactOnceAsync());
        Assert.Equal(1, WalDatabase.Scalar(wal.Database.FilePath, "SELECT count(*) FROM wal_message"));
    }
}
