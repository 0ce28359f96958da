using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Deploy;

/// <summary>
/// deploy/Dockerfile and deploy/compose.yaml, checked without a container engine (none runs here): compose's own
/// schema check, and the Dockerfile's stages, user and copied paths read from the file.
/// </summary>
public sealed class ContainerFilesTests
{
    private static readonly string[] Dockerfile = File.ReadAllLines(RepositoryFiles.PathOf("deploy", "Dockerfile"));

    [RequiresToolsFact("docker-compose")]
    public async Task The_compose_file_is_valid_and_opens_only_the_tls_ports_beyond_loopback()
    {
        var (exitCode, output) = await ExternalProgram.RunAsync("docker-compose", ["-f", RepositoryFiles.PathOf("deploy", "compose.yaml"), "config"]);

        Assert.True(exitCode == 0, $"docker-compose config (exit {exitCode}):\n{output}");
        var ports = PortEntries(output);
        Assert.Equal(5, ports.Count);
        var openToNetwork = ports.Where(port => !port.Contains("127.0.0.1", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, openToNetwork.Count);
        Assert.Contains(openToNetwork, port => port.Contains("8883", StringComparison.Ordinal));
        Assert.Contains(openToNetwork, port => port.Contains("8443", StringComparison.Ordinal));
    }

    [Fact]
    public void The_dockerfile_builds_in_one_stage_and_runs_in_another_as_a_non_root_user()
    {
        var stages = Dockerfile.Where(line => line.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, stages.Count);
        Assert.Contains("/dotnet/sdk:", stages[0], StringComparison.Ordinal);
        Assert.Contains("/dotnet/aspnet:", stages[1], StringComparison.Ordinal);

        var runtimeStage = Dockerfile.SkipWhile(line => line != stages[1]).ToList();
        var user = runtimeStage.Last(line => line.StartsWith("USER ", StringComparison.Ordinal))["USER ".Length..].Split(':')[0];
        Assert.NotEqual("root", user);
        Assert.NotEqual("0", user);
        Assert.DoesNotContain(runtimeStage, line => line.StartsWith("COPY ", StringComparison.Ordinal) && !line.Contains("--from=build", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_path_the_dockerfile_copies_exists_and_its_entry_point_is_the_silo()
    {
        var copied = Dockerfile
            .Where(line => line.StartsWith("COPY ", StringComparison.Ordinal) && !line.Contains("--from=", StringComparison.Ordinal))
            .SelectMany(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1])
            .ToList();

        Assert.NotEmpty(copied);
        Assert.All(copied, path => Assert.True(File.Exists(RepositoryFiles.PathOf(path)) || Directory.Exists(RepositoryFiles.PathOf(path)), $"COPY {path}: not in the repository"));
        Assert.Contains(Dockerfile, line => line == "ENTRYPOINT [\"dotnet\", \"/app/Gateway.Silo.dll\"]");
    }

    // The entries of the service's "ports:" list, each as one string (short "a:b:c" or long "published:/target:" form).
    private static List<string> PortEntries(string composeConfig)
    {
        var lines = composeConfig.Split('\n');
        var start = Array.FindIndex(lines, line => line.Trim() == "ports:");
        var indent = lines[start].Length - lines[start].TrimStart().Length;
        var entries = new List<string>();
        foreach (var line in lines.Skip(start + 1).TakeWhile(line => line.Length - line.TrimStart().Length > indent || line.TrimStart().StartsWith("- ", StringComparison.Ordinal)))
        {
            if (line.TrimStart().StartsWith("- ", StringComparison.Ordinal))
            {
                entries.Add(line.Trim());
            }
            else
            {
                entries[^1] += " " + line.Trim();
            }
        }

        return entries;
    }
}
