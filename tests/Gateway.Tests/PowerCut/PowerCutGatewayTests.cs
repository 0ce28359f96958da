using System.Globalization;
using Gateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.Tests.PowerCut;

/// <summary>
/// The promise against a power cut, not only a crash: kill -9 leaves the page cache, so only a cut shows a missing
/// fsync. <c>benchmarks/chaos.sh --power-cut</c> runs the first test with 20 cuts (GATEWAY_POWER_CUTS) and prints
/// its result (GATEWAY_POWER_CUT_REPORT).
/// </summary>
public sealed class PowerCutGatewayTests(ITestOutputHelper output)
{
    [RequiresToolsFact("gcc", "pkg-config", "fusermount3")]
    public async Task Every_acknowledged_message_reaches_both_sinks_in_device_order_across_power_cuts()
    {
        var cuts = int.TryParse(Environment.GetEnvironmentVariable("GATEWAY_POWER_CUTS"), CultureInfo.InvariantCulture, out var configured) ? configured : 3;
        var result = await new PowerCutScenario(output.WriteLine) { Cuts = cuts }.RunAsync();

        output.WriteLine(result.ToString());
        if (Environment.GetEnvironmentVariable("GATEWAY_POWER_CUT_REPORT") is { Length: > 0 } report)
        {
            await File.WriteAllTextAsync(report, result + "\n");
        }

        Assert.All(result.IntegrityChecks, check => Assert.Equal("ok", check));
        Assert.Equal(0, result.FileMissing);
        Assert.Equal(0, result.CloudMissing);
        Assert.Equal(0, result.OrderViolations);
    }

    /// <summary>
    /// Negative control: the harness must see a missing sync. The file system answers the file sink's O_DSYNC writes
    /// without making them durable, which leaves the disk exactly as a file sink that never synced would; the gateway
    /// is unchanged. Acknowledged messages must then be reported missing from the file sink (and none from the cloud).
    /// </summary>
    [RequiresToolsFact("gcc", "pkg-config", "fusermount3")]
    public async Task A_file_sink_that_does_not_sync_is_reported_missing_messages_after_a_power_cut()
    {
        var result = await new PowerCutScenario(output.WriteLine) { Cuts = 1, IgnoreSyncOf = "*.ndjson" }.RunAsync();

        output.WriteLine(result.ToString());
        Assert.True(result.FileMissing > 0, $"no message missing from a file sink whose writes were never durable: the harness is blind ({result})");
        Assert.Equal(0, result.CloudMissing);
        Assert.All(result.IntegrityChecks, check => Assert.Equal("ok", check));
    }
}
