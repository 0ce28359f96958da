using Gateway.Routing;

namespace Gateway.Tests.Partitions;

public sealed class TopicFilterTests
{
    [Theory]
    [InlineData("devices/+/telemetry", "devices/a/telemetry", true)]
    [InlineData("devices/+/telemetry", "devices/a/telemetry/x", false)]
    [InlineData("devices/+/telemetry/#", "devices/a/telemetry", true)]
    [InlineData("devices/+/telemetry/#", "devices/a/telemetry/x/y", true)]
    [InlineData("devices/a/#", "devices/b/telemetry", false)]
    [InlineData("#", "anything/at/all", true)]
    [InlineData("a/+", "a/", true)]
    [InlineData("a/b", "a", false)]
    [InlineData("a", "a/b", false)]
    public void Filters_match_as_mqtt_defines(string filter, string topic, bool matches) =>
        Assert.Equal(matches, new TopicFilter(filter).Matches(topic));

    [Theory]
    [InlineData("a/#/b")]
    [InlineData("a/b#")]
    [InlineData("a/+b")]
    public void Malformed_filters_are_rejected(string filter) =>
        Assert.Throws<FormatException>(() => new TopicFilter(filter));
}
