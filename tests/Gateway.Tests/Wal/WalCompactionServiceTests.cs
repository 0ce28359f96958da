using Gateway.Lanes;
using Gateway.Partitions;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Wal;

/// <summary>What every WAL store must do; one derived class per store runs the same claims against it.</summary>
public abstract class WalCompactionServiceTests
{
    /// <summary>Opens a fresh store of the kind under test.</summary>
    protected abstract IWalUnderTest Open(WalOptions? options = null);

    [Fact]
    public async Task Acked_records_are_kept_for_the_retention_window_then_deleted()
    {
        using var wal = Open();
        var partition = new PartitionKey("file", 0);
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 4, partition));
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(partition, 3));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lanes = new LaneCatalog([LaneCatalog.Default]);
        var compaction = new WalCompactionService(wal.Store, lanes, new LaneActivity(WalFixture.NewMetrics()),
            Options.Create(new WalOptions { AckedRetention = TimeSpan.FromHours(1) }), clock, NullLogger<WalCompactionService>.Instance);

        clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, await compaction.CompactOnceAsync());

        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(3, await compaction.CompactOnceAsync());
        Assert.Equal(1, wal.Scalar("SELECT count(*) FROM wal_message"));
    }
}

public sealed class SqliteWalCompactionServiceTests : WalCompactionServiceTests
{
    protected override IWalUnderTest Open(WalOptions? options = null) => new SqliteWalUnderTest(options);
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlWalCompactionServiceTests(PostgreSqlServer server) : WalCompactionServiceTests
{
    protected override IWalUnderTest Open(WalOptions? options = null) => PostgreSqlWalUnderTest.CreateAsync(server, options).GetAwaiter().GetResult();
}
