using Gateway.Devices;
using Gateway.Partitions;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Wal;
using Gateway.Wal;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Cluster;

/// <summary>Several nodes' WAL stores on one PostgreSQL database: what is per node, and what must be cluster-wide.</summary>
[Collection(PostgreSqlCollection.Name)]
public sealed class ClusterWalTests(PostgreSqlServer server)
{
    private static readonly PartitionKey Partition = new("file", 0);

    [RequiresPostgreSqlFact]
    public async Task Backpressure_on_an_idle_node_counts_what_the_other_nodes_appended()
    {
        var options = new WalOptions { HighWaterMessages = 5 };
        using var wal = await PostgreSqlWalUnderTest.CreateAsync(server, options);
        var idle = wal.OpenNode();
        using var data = new TempDirectory();
        var pressure = new IngestPressure(idle, new SqliteDatabase(data.Path), Options.Create(options), TimeProvider.System);

        await wal.Node.AppendAsync(WalFixture.Append("a", 1, 5, Partition));

        await Eventually.TrueAsync(() => pressure.Check().Reason == RefusalReason.Backpressure, "the idle node refuses on the cluster's backlog");
        Assert.Equal(5, idle.GetStatistics().EnqueuedRecords);
        Assert.Equal(0, idle.GetStatistics().AppendedMessages);
    }

    [RequiresPostgreSqlFact]
    public async Task Counts_stay_exact_when_records_appended_on_one_node_are_leased_and_settled_on_another()
    {
        using var wal = await PostgreSqlWalUnderTest.CreateAsync(server);
        var other = wal.OpenNode();
        await wal.Node.AppendAsync(WalFixture.Append("a", 1, 4, Partition));

        var leased = await other.LeaseAsync(Partition, 10);
        await other.AckAsync(leased.Take(2).ToList());
        await wal.Node.FailAsync(leased.Skip(2).Take(1).ToList(), new DeliveryFailure("no", Permanent: true, DateTimeOffset.UtcNow, 1, DateTimeOffset.MinValue));

        foreach (var node in new[] { wal.Node, other })
        {
            await node.RefreshTotalsAsync();
            var statistics = node.GetStatistics();
            Assert.Equal((0L, 1L, 2L, 1L), (statistics.EnqueuedRecords, statistics.InFlightRecords, statistics.AckedRecords, statistics.DeadRecords));
        }

        // A restarted node folds every process's counter row into one; the totals on every node stay the same.
        wal.Reopen();
        Assert.Equal(1, wal.Scalar("SELECT count(*) FROM wal_counter"));
        Assert.Equal(1, wal.Node.GetStatistics().InFlightRecords);
        await other.RecoverInFlightAsync(Partition);
        await wal.Node.RefreshTotalsAsync();
        Assert.Equal((1L, 0L), (wal.Node.GetStatistics().EnqueuedRecords, wal.Node.GetStatistics().InFlightRecords));
    }

    [RequiresPostgreSqlFact]
    public async Task Two_nodes_leasing_one_partition_at_once_never_lease_a_record_twice()
    {
        using var wal = await PostgreSqlWalUnderTest.CreateAsync(server);
        var other = wal.OpenNode();
        for (var device = 0; device < 20; device++)
        {
            await wal.Node.AppendAsync(WalFixture.Append($"d{device}", 1, 10, Partition));
        }

        var leases = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => (i % 2 == 0 ? wal.Node : other).LeaseAsync(Partition, 7)));

        var leased = leases.SelectMany(lease => lease).Select(record => record.DeliveryId).ToList();
        Assert.Equal(200, leased.Count);
        Assert.Equal(200, leased.Distinct().Count());
        Assert.All(leases, lease => Assert.Equal(lease.Select(r => r.DeliveryId).Order(), lease.Select(r => r.DeliveryId)));
    }

    [RequiresPostgreSqlFact]
    public async Task A_claim_on_one_node_racing_a_lease_by_the_earlier_holder_on_another_never_strands_a_record()
    {
        using var wal = await PostgreSqlWalUnderTest.CreateAsync(server);
        var other = wal.OpenNode();
        await wal.Node.AppendAsync(WalFixture.Append("a", 1, 200, Partition));
        await other.ClaimAsync(Partition, 1);

        // Each round the partition moves to a new activation on the first node while the previous one, on the
        // other node, still leases: its lease either commits first (and the claim takes the records back) or
        // sees the new holder and takes nothing. Either way no record is left InFlight for nobody.
        for (long holder = 2; holder <= 30; holder++)
        {
            await Task.WhenAll(wal.Node.ClaimAsync(Partition, holder), other.LeaseAsync(Partition, 3, holder - 1));
            Assert.Equal(0, wal.Scalar("SELECT count(*) FROM wal_delivery WHERE state = 1"));
        }

        Assert.Equal(200, (await wal.Node.LeaseAsync(Partition, 1000, 30)).Count);
    }

    [RequiresPostgreSqlFact]
    public async Task Nodes_compacting_together_delete_each_acked_record_once_and_leave_no_message_behind()
    {
        using var wal = await PostgreSqlWalUnderTest.CreateAsync(server);
        var other = wal.OpenNode();
        var twoSinks = new[] { Partition, new PartitionKey("archive", 0) };
        for (var device = 0; device < 10; device++)
        {
            var append = WalFixture.Append($"d{device}", 1, 30, Partition);
            await wal.Node.AppendAsync(append with { Messages = append.Messages.Select(m => m with { Routes = twoSinks }).ToList() });
        }

        foreach (var partition in twoSinks)
        {
            await wal.Node.AckAsync(await wal.Node.LeaseAsync(partition, 1000));
        }

        var deleted = 0;
        var cutoff = DateTimeOffset.UtcNow.AddMinutes(1);
        await Eventually.TrueAsync(async () =>
        {
            var rounds = await Task.WhenAll(wal.Node.CompactAsync(cutoff, 7), other.CompactAsync(cutoff, 7));
            deleted += rounds.Sum();
            return wal.Scalar("SELECT count(*) FROM wal_delivery") == 0;
        }, "every acked delivery compacted");

        Assert.Equal(600, deleted);
        Assert.Equal(0, wal.Scalar("SELECT count(*) FROM wal_message"));
        await other.RefreshTotalsAsync();
        Assert.Equal(0, other.GetStatistics().AckedRecords);
    }
}
