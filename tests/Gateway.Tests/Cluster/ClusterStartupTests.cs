using System.Diagnostics;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Cluster;

/// <summary>How a cluster node starts when its configuration or its database is wrong.</summary>
public sealed class ClusterStartupTests
{
    [Fact]
    public async Task Cluster_mode_without_a_connection_string_stops_with_an_error_naming_the_key()
    {
        using var directory = new TempDirectory();

        var (exitCode, output) = await GatewayProcess.RunToExitAsync(directory.Path, new Dictionary<string, string>
        {
            ["Gateway:Cluster:Mode"] = "PostgreSql",
        });

        Assert.Equal(2, exitCode);
        Assert.Contains("Gateway:Cluster:ConnectionString must be set", output);
    }

    [Fact]
    public async Task An_unreachable_database_is_waited_for_with_a_log_line_then_start_up_fails_with_a_clear_message()
    {
        using var directory = new TempDirectory();
        var nobodyListens = FreePort.Next();
        var started = Stopwatch.StartNew();

        var (exitCode, output) = await GatewayProcess.RunToExitAsync(directory.Path, new Dictionary<string, string>
        {
            ["Gateway:Cluster:Mode"] = "PostgreSql",
            ["Gateway:Cluster:ConnectionString"] = $"Host=127.0.0.1;Port={nobodyListens};Username=gateway;Password=secret-not-logged;Database=gateway;Timeout=2",
            ["Gateway:Cluster:DatabaseWaitTimeout"] = "00:00:04",
        });

        Assert.Equal(2, exitCode);
        Assert.Contains($"Waiting for the cluster database 127.0.0.1:{nobodyListens}/gateway", output);
        Assert.Contains($"Start-up failed: The cluster database 127.0.0.1:{nobodyListens}/gateway did not answer within 00:00:04 (Gateway:Cluster:DatabaseWaitTimeout)", output);
        Assert.DoesNotContain("secret-not-logged", output);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(55), $"start-up gave up after {started.Elapsed}, not after the configured wait");
    }
}
