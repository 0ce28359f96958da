using System.Diagnostics;
using Gateway.Ingest.Telemetry;

namespace Gateway.Tests.Operations;

/// <summary>Which trace context a message is stored with when no ingest span is recorded (tracing off, or not sampled).</summary>
public sealed class StoredTraceParentTests
{
    private const string DeviceTraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Fact]
    public void A_valid_traceparent_of_the_device_is_kept_as_sent()
    {
        Assert.Equal(DeviceTraceParent, IngestTelemetry.TraceParentToStore(null, DeviceTraceParent));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-a-traceparent")]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01")]
    public void Without_a_valid_one_each_message_starts_a_new_unsampled_trace(string? deviceTraceParent)
    {
        var first = IngestTelemetry.TraceParentToStore(null, deviceTraceParent);
        var second = IngestTelemetry.TraceParentToStore(null, deviceTraceParent);

        Assert.True(ActivityContext.TryParse(first, null, out var context), first);
        Assert.Equal(ActivityTraceFlags.None, context.TraceFlags);
        Assert.NotEqual(first.Split('-')[1], second.Split('-')[1]);
    }
}
