using Gateway.Partitions;
using Gateway.Routing;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Partitions;

public sealed class PartitionRouterTests
{
    private static PartitionRouter Router(int partitions, params SinkRoute[] routes) =>
        new(routes, Options.Create(new DeliveryOptions { PartitionCount = partitions }));

    private static SinkRoute All(string sink) => new(sink, [], []);

    [Fact]
    public void A_device_maps_to_the_same_partition_in_every_router_and_every_sink()
    {
        var routes = Router(8, All("file"), All("cloud")).RoutesFor("sensor-42", "devices/sensor-42/telemetry");
        var again = Router(8, All("file"), All("cloud")).RoutesFor("sensor-42", "devices/sensor-42/telemetry");

        Assert.Equal(routes, again);
        Assert.Equal(["file", "cloud"], routes.Select(r => r.Sink));
        Assert.Single(routes.Select(r => r.Partition).Distinct());
    }

    [Fact]
    public void The_mapping_is_fixed_across_processes_and_releases()
    {
        // xxHash32 of the UTF-8 id, modulo the partition count: a stored record's partition must not move on upgrade.
        Assert.Equal((int)(System.IO.Hashing.XxHash32.HashToUInt32("sensor-42"u8) % 8), Router(8, All("file")).PartitionOf("sensor-42"));
    }

    [Fact]
    public void Devices_spread_over_all_partitions()
    {
        var router = Router(8, All("file"));
        var counts = Enumerable.Range(0, 8000).GroupBy(i => router.PartitionOf($"device-{i}")).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(8, counts.Count);
        Assert.All(counts.Values, count => Assert.InRange(count, 800, 1200));
    }

    [Fact]
    public void A_message_goes_to_every_sink_whose_topic_filter_and_device_pattern_take_it()
    {
        var router = Router(8,
            All("archive"),
            new SinkRoute("alarms", ["devices/+/telemetry/alarm/#"], []),
            new SinkRoute("pumps", [], ["pump-*"]));

        Assert.Equal(["archive", "alarms"], router.RoutesFor("fan-1", "devices/fan-1/telemetry/alarm/high").Select(r => r.Sink));
        Assert.Equal(["archive", "pumps"], router.RoutesFor("pump-7", "devices/pump-7/telemetry").Select(r => r.Sink));
        Assert.Empty(Router(8, new SinkRoute("alarms", ["devices/+/alarm"], [])).RoutesFor("fan-1", "devices/fan-1/telemetry"));
    }
}
