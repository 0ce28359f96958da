using Gateway.Partitions;
using Gateway.Routing;
using Gateway.Sinks;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Partitions;

public sealed class PartitionRouterTests
{
    private sealed class NamedSink(string name) : ISink
    {
        public string Name => name;

        public Task<DeliveryResult> DeliverAsync(IReadOnlyList<Gateway.Wal.WalRecord> batch, CancellationToken cancellationToken) =>
            throw new NotSupportedException("routing never delivers");
    }

    private static PartitionRouter Router(int partitions, params string[] sinks) =>
        new(new SinkCatalog(sinks.Select(name => new NamedSink(name))), Options.Create(new DeliveryOptions { PartitionCount = partitions }));

    [Fact]
    public void A_device_maps_to_the_same_partition_in_every_router_and_every_sink()
    {
        var routes = Router(8, "file", "cloud").RoutesFor("sensor-42");
        var again = Router(8, "file", "cloud").RoutesFor("sensor-42");

        Assert.Equal(routes, again);
        Assert.Equal(["file", "cloud"], routes.Select(r => r.Sink));
        Assert.Single(routes.Select(r => r.Partition).Distinct());
    }

    [Fact]
    public void The_mapping_is_fixed_across_processes_and_releases()
    {
        // xxHash32 of the UTF-8 id, modulo the partition count: a stored record's partition must not move on upgrade.
        Assert.Equal(new PartitionKey("file", Router(8, "file").PartitionOf("sensor-42")), Router(8, "file").RoutesFor("sensor-42")[0]);
        Assert.Equal((int)(System.IO.Hashing.XxHash32.HashToUInt32("sensor-42"u8) % 8), Router(8, "file").PartitionOf("sensor-42"));
    }

    [Fact]
    public void Devices_spread_over_all_partitions()
    {
        var router = Router(8, "file");
        var counts = Enumerable.Range(0, 8000).GroupBy(i => router.PartitionOf($"device-{i}")).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(8, counts.Count);
        Assert.All(counts.Values, count => Assert.InRange(count, 800, 1200));
    }
}
