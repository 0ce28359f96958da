using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Operations;

public sealed class WalReadinessTests
{
    [RequiresToolsFact("chattr", "lsattr")]
    public async Task Readiness_fails_while_the_WAL_file_is_read_only_and_recovers_after()
    {
        using var directory = new TempDirectory();
        await using var gateway = await GatewayProcess.StartAsync(directory.Path, new Dictionary<string, string>
        {
            ["Gateway:Health:WalProbeInterval"] = "00:00:00.200",
        });
        var (status, report) = await ReadinessProbe.GetAsync(gateway);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("pass", report.GetProperty("checks").GetProperty("wal").GetProperty("status").GetString());

        // Root ignores permission bits; the immutable attribute stops every write, root's included, even
        // through a descriptor opened before (Linux checks it on write since 5.3).
        string[] files = [directory.Combine(SqliteDatabase.FileName), directory.Combine(SqliteDatabase.FileName + "-wal")];
        await ChattrAsync("+i", files);
        try
        {
            var reason = await ReadinessProbe.WaitForFailureAsync(gateway, "wal");
            Assert.Contains("WAL cannot be written", reason);
        }
        finally
        {
            await ChattrAsync("-i", files);
        }

        await ReadinessProbe.WaitForReadyAsync(gateway);
        using var accepted = await gateway.Http.PostJsonAsync("after-read-only", "{}");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
    }

    private static async Task ChattrAsync(string change, string[] files)
    {
        var (exitCode, output) = await ExternalProgram.RunAsync("chattr", [change, .. files]);
        Assert.True(exitCode == 0, $"chattr {change} failed (needs root and a file system with attributes): {output}");
    }
}

public sealed class BackpressureReadinessTests
{
    [Fact]
    public async Task Readiness_fails_under_backpressure_and_recovers_when_the_backlog_drains()
    {
        using var directory = new TempDirectory();
        var blocker = directory.Combine("not-a-folder");
        await File.WriteAllTextAsync(blocker, "blocks the sink folder");
        await using var gateway = await GatewayProcess.StartAsync(directory.Path, new Dictionary<string, string>
        {
            ["Gateway:Wal:HighWaterMessages"] = "3",
            ["Gateway:Delivery:BackoffBase"] = "00:00:00.050",
            ["Gateway:Delivery:BackoffCap"] = "00:00:00.200",
            ["Gateway:Sinks:0:Name"] = "cloud",
            ["Gateway:Sinks:0:Type"] = "file",
            ["Gateway:Sinks:0:Path"] = Path.Combine(blocker, "sink"),
            // The failures open the sink's circuit within a second; a short open time keeps the recovery below quick
            // however long the checks before it take.
            ["Gateway:Sinks:0:CircuitOpenDuration"] = "00:00:00.200",
            ["Gateway:Telemetry:Tracing"] = "true",
        });

        var deviceTrace = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/devices/backlog-1/telemetry")
        {
            Content = new StringContent("[{},{},{}]", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", $"00-{deviceTrace}-{ActivitySpanId.CreateRandom()}-01");
        using var accepted = await gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);

        var reason = await ReadinessProbe.WaitForFailureAsync(gateway, "backpressure");
        Assert.Contains("3 undelivered records", reason);

        // The metrics an alert reads say the same: the check failing, and the sink's backlog with its age.
        await Eventually.TrueAsync(async () =>
        {
            var metrics = await gateway.Operations.GetStringAsync("/metrics");
            return Regex.IsMatch(metrics, """gateway_readiness_status\{[^}]*gateway_check="backpressure"\} 0\n""")
                && Regex.IsMatch(metrics, """gateway_readiness_status\{[^}]*gateway_check="wal"\} 1\n""")
                && Regex.IsMatch(metrics, """gateway_sink_backlog\{[^}]*gateway_sink="cloud"\} 3\n""")
                && Regex.IsMatch(metrics, """gateway_sink_oldest_pending_age_seconds\{[^}]*gateway_sink="cloud"\} (0\.0*[1-9]|[1-9])""");
        }, "the readiness and backlog series to show the failing check and the three records");

        // The failed deliveries are logged as single-line JSON carrying the message's trace id.
        await Eventually.TrueAsync(() => FailedDeliveryLogLines(gateway).Any(line => line.Contains(deviceTrace.ToHexString(), StringComparison.Ordinal)),
            "a delivery failure logged with the device's trace id");

        File.Delete(blocker);
        await ReadinessProbe.WaitForReadyAsync(gateway);
        var (_, report) = await ReadinessProbe.GetAsync(gateway);
        Assert.Equal("pass", report.GetProperty("checks").GetProperty("backpressure").GetProperty("status").GetString());
    }

    private static IEnumerable<string> FailedDeliveryLogLines(GatewayProcess gateway)
    {
        foreach (var line in gateway.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!line.StartsWith('{'))
            {
                continue;
            }

            var json = JsonDocument.Parse(line).RootElement;
            if (json.GetProperty("EventId").GetInt32() == 3003)
            {
                yield return line;
            }
        }
    }
}

public sealed class DiskReadinessTests
{
    // The floor sits this far below the free space at the start. The rest of the suite writes to the same disk while
    // this test runs (a 200,000-record WAL, disk images), and whatever it writes counts against the floor, so the
    // margin is wide: with 256 MiB the test failed once in a full run (never alone).
    private const long MinimumMargin = 256L * 1024 * 1024;
    private const long WideMargin = 2L * 1024 * 1024 * 1024;

    [Fact]
    public async Task Readiness_fails_below_the_disk_floor_and_recovers_when_space_returns()
    {
        using var directory = new TempDirectory();
        var free = new DriveInfo(directory.Path).AvailableFreeSpace;
        Assert.True(free > 4 * MinimumMargin, $"the test needs {4 * MinimumMargin} bytes free on the temp disk, it has {free}");
        var margin = Math.Clamp(free / 8, MinimumMargin, WideMargin);
        await using var gateway = await GatewayProcess.StartAsync(directory.Path, new Dictionary<string, string>
        {
            ["Gateway:Wal:DiskFreeFloorBytes"] = (free - margin).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        // A ballast file really allocated (posix_fallocate), twice the margin: the disk crosses the floor.
        var ballast = directory.Combine("ballast");
        await using (new FileStream(ballast, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, PreallocationSize = 2 * margin }))
        {
        }

        try
        {
            var reason = await ReadinessProbe.WaitForFailureAsync(gateway, "disk");
            Assert.Contains("below the floor", reason);
            using var refused = await gateway.Http.PostJsonAsync("disk-1", "{}");
            Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        }
        finally
        {
            File.Delete(ballast);
        }

        await ReadinessProbe.WaitForReadyAsync(gateway);
    }
}
