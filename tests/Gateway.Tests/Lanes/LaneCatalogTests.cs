using Gateway.Lanes;

namespace Gateway.Tests.Lanes;

public sealed class LaneCatalogTests
{
    private static LaneOptions Options(string name, int priority, string[]? topics = null, string[]? devices = null) =>
        new() { Name = name, Priority = priority, Topics = [.. topics ?? []], Devices = [.. devices ?? []] };

    private static LaneCatalog Catalog(params LaneOptions[] lanes) =>
        LaneCatalog.FromOptions(Microsoft.Extensions.Options.Options.Create(new LaneListOptions { Lanes = [.. lanes] }));

    [Fact]
    public void Without_configuration_every_message_takes_the_one_default_lane()
    {
        var catalog = Catalog();

        var lane = Assert.Single(catalog.Lanes);
        Assert.Equal(("normal", Lane.DefaultPriority), (lane.Name, lane.Priority));
        Assert.Same(lane, catalog.LaneOf("pump-1", "devices/pump-1/telemetry/alarms"));
    }

    [Fact]
    public void A_message_takes_the_highest_priority_lane_it_matches_and_the_lane_without_filters_takes_the_rest()
    {
        var catalog = Catalog(
            Options("bulk", 9, devices: ["logger-*"]),
            Options("normal", 4),
            Options("alarms", 0, topics: ["devices/+/telemetry/alarms/#"]),
            Options("pumps", 2, devices: ["pump-*"]));

        Assert.Equal(["alarms", "pumps", "normal", "bulk"], catalog.Lanes.Select(lane => lane.Name));
        Assert.Equal("alarms", catalog.LaneOf("pump-1", "devices/pump-1/telemetry/alarms").Name);
        Assert.Equal("alarms", catalog.LaneOf("logger-1", "devices/logger-1/telemetry/alarms/high").Name);
        Assert.Equal("pumps", catalog.LaneOf("pump-1", "devices/pump-1/telemetry").Name);
        Assert.Equal("bulk", catalog.LaneOf("logger-1", "devices/logger-1/telemetry").Name);
        Assert.Equal("normal", catalog.LaneOf("sensor-1", "devices/sensor-1/telemetry").Name);
    }

    [Fact]
    public void A_priority_no_lane_has_is_named_by_its_number()
    {
        var catalog = Catalog(Options("critical", 0, topics: ["devices/+/telemetry/alarms"]), Options("rest", 5));

        Assert.Equal("critical", catalog.NameOf(0));
        Assert.Equal("4", catalog.NameOf(4));
    }

    [Theory]
    [InlineData("two lanes without filters", "Gateway:Lanes: lanes 'a', 'b' have neither Topics nor Devices")]
    [InlineData("no lane without filters", "Gateway:Lanes: every lane has Topics or Devices")]
    [InlineData("same priority", "Gateway:Lanes:1:Priority: 3 is used by another lane")]
    [InlineData("same name", "Gateway:Lanes:1:Name: 'a' is used by another lane")]
    [InlineData("bad filter", "Gateway:Lanes:0:Topics: 'devices/#/x' is not an MQTT topic filter")]
    [InlineData("share out of range", "Gateway:Lanes:0:Share: Share must be between 0.01 and 1.")]
    [InlineData("priority out of range", "Gateway:Lanes:0:Priority: Priority must be between 0 and 9.")]
    public void Invalid_lanes_fail_validation_naming_the_key(string invalid, string expected)
    {
        LaneOptions[] lanes = invalid switch
        {
            "two lanes without filters" => [Options("a", 1), Options("b", 2)],
            "no lane without filters" => [Options("a", 1, topics: ["x"])],
            "same priority" => [Options("a", 3), Options("b", 3, topics: ["x"])],
            "same name" => [Options("a", 3), Options("a", 4, topics: ["x"])],
            "bad filter" => [Options("a", 3, topics: ["devices/#/x"]), Options("b", 4)],
            "share out of range" => [new LaneOptions { Name = "a", Priority = 1, Share = 1.5 }],
            "priority out of range" => [Options("a", 10)],
            _ => throw new ArgumentOutOfRangeException(nameof(invalid)),
        };

        var result = new LaneListOptionsValidator().Validate(null, new LaneListOptions { Lanes = [.. lanes] });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, failure => failure.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void No_lanes_and_a_well_formed_set_pass_validation()
    {
        var validator = new LaneListOptionsValidator();

        Assert.True(validator.Validate(null, new LaneListOptions()).Succeeded);
        Assert.True(validator.Validate(null, new LaneListOptions
        {
            Lanes = [Options("critical", 0, topics: ["devices/+/telemetry/alarms"]), Options("normal", 4), Options("bulk", 9, devices: ["logger-*"])],
        }).Succeeded);
    }
}
