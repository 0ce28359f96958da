namespace Gateway.Benchmarks;

/// <summary>The parsed command line: which scenarios to run, and where the built gateway is.</summary>
/// <param name="Scenarios">Scenario names in the order given, <c>all</c> expanded.</param>
/// <param name="SiloAssembly">Gateway.Silo.dll for http-ingest.</param>
internal sealed record CommandLine(IReadOnlyList<string> Scenarios, string SiloAssembly)
{
    public const string Usage = """
        usage: Gateway.Benchmarks <scenario>... [--silo <path of Gateway.Silo.dll>]
          scenarios: wal-append, wal-backlog, http-ingest, http-drain, lane-drain, cold-start, or all
          --silo     the built gateway that http-ingest, http-drain, lane-drain and cold-start start; by default the repository's
                     Gateway.Silo/bin/Release/net10.0/Gateway.Silo.dll
        """;

    /// <summary>Reads <paramref name="args"/>; null with <paramref name="error"/> set when they are not valid.</summary>
    public static CommandLine? Parse(string[] args, IReadOnlyList<string> knownScenarios, out string? error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(knownScenarios);
        var scenarios = new List<string>();
        string? silo = null;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--silo")
            {
                if (++i == args.Length)
                {
                    error = "--silo needs a path.";
                    return null;
                }

                silo = Path.GetFullPath(args[i]);
            }
            else if (arg == "all")
            {
                scenarios.AddRange(knownScenarios);
            }
            else if (knownScenarios.Contains(arg))
            {
                scenarios.Add(arg);
            }
            else
            {
                error = $"Unknown scenario or option '{arg}'.";
                return null;
            }
        }

        if (scenarios.Count == 0)
        {
            error = "Name at least one scenario.";
            return null;
        }

        error = null;
        return new CommandLine(scenarios.Distinct().ToList(), silo ?? DefaultSiloAssembly());
    }

    // The benchmark runs from benchmarks/Gateway.Benchmarks/bin/<configuration>/<framework>/ in the repository.
    private static string DefaultSiloAssembly()
    {
        var repository = new DirectoryInfo(AppContext.BaseDirectory);
        while (repository is not null && !File.Exists(Path.Combine(repository.FullName, "Orleans.Gateway.sln")))
        {
            repository = repository.Parent;
        }

        var root = repository?.FullName ?? Directory.GetCurrentDirectory();
        return Path.Combine(root, "Gateway.Silo", "bin", "Release", "net10.0", "Gateway.Silo.dll");
    }
}
