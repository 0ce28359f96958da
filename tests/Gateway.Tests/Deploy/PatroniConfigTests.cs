using System.Globalization;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Deploy;

/// <summary>deploy/cluster/patroni/config.yml, the Patroni configuration docs/cluster.md installs on each Pi.</summary>
public sealed class PatroniConfigTests
{
    private static readonly string ConfigPath = RepositoryFiles.PathOf("deploy", "cluster", "patroni", "config.yml");

    [RequiresToolsFact("patroni")]
    public async Task Patroni_accepts_the_configuration()
    {
        var (exitCode, output) = await ExternalProgram.RunAsync("patroni", ["--validate-config", ConfigPath]);

        Assert.True(exitCode == 0 && output.Trim().Length == 0, $"patroni --validate-config (exit {exitCode}):\n{output}");
    }

    [Fact]
    public void Every_commit_waits_for_a_synchronous_standby_and_none_commits_on_the_primary_alone()
    {
        var settings = File.ReadLines(ConfigPath)
            .Select(line => line.Split('#', 2)[0].Trim())
            .Where(line => line.Contains(": ", StringComparison.Ordinal))
            .Select(line => line.Split(": ", 2))
            .ToLookup(pair => pair[0], pair => pair[1].Trim().Trim('"'));

        Assert.Equal(["true"], settings["synchronous_mode"]);
        Assert.Equal(["true"], settings["synchronous_mode_strict"]);
        Assert.Equal(["1"], settings["synchronous_node_count"]);
        Assert.Equal(["on"], settings["synchronous_commit"]);
        // Patroni's own rule for its timings: a leader renews its key well before the key expires.
        int Seconds(string key) => int.Parse(settings[key].Single(), CultureInfo.InvariantCulture);
        var (ttl, loopWait, retryTimeout) = (Seconds("ttl"), Seconds("loop_wait"), Seconds("retry_timeout"));
        Assert.True(loopWait + (2 * retryTimeout) <= ttl, $"loop_wait {loopWait} + 2 * retry_timeout {retryTimeout} > ttl {ttl}");
    }
}
