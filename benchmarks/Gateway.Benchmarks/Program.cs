using Gateway.Benchmarks.Egress;
using Gateway.Benchmarks.Http;
using Gateway.Benchmarks.Measurement;
using Gateway.Benchmarks.Startup;
using Gateway.Benchmarks.Wal;

namespace Gateway.Benchmarks;

/// <summary>
/// Quick throughput and latency runs of the gateway's write path, printed as one markdown table on stdout
/// (progress goes to stderr). Deliberately not BenchmarkDotNet: each scenario runs once, in seconds, at a
/// fixed load, which is what a table in BENCHMARKS.md needs.
/// </summary>
internal static class Program
{
    private const int FailedExitCode = 1;
    private const int UsageExitCode = 2;
    private const int CancelledExitCode = 130;

    // In the order "all" runs them: the in-process WAL first, then the whole gateway.
    private static readonly (string Name, Func<CommandLine, IScenario> Create)[] Scenarios =
    [
        (WalAppendScenario.Name, _ => new WalAppendScenario()),
        (WalBacklogScenario.Name, _ => new WalBacklogScenario()),
        (HttpIngestScenario.Name, command => new HttpIngestScenario(command.SiloAssembly)),
        (HttpDrainScenario.Name, command => new HttpDrainScenario(command.SiloAssembly)),
        (LaneDrainScenario.Name, command => new LaneDrainScenario(command.SiloAssembly)),
        (ColdStartScenario.Name, command => new ColdStartScenario(command.SiloAssembly)),
    ];

    public static async Task<int> Main(string[] args)
    {
        if (args is ["-h" or "--help"])
        {
            Console.WriteLine(CommandLine.Usage);
            return 0;
        }

        var command = CommandLine.Parse(args, Array.ConvertAll(Scenarios, scenario => scenario.Name), out var usageError);
        if (command is null)
        {
            await Console.Error.WriteLineAsync(usageError + Environment.NewLine + CommandLine.Usage);
            return UsageExitCode;
        }

        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, press) =>
        {
            // Stop the scenario cleanly so that the gateway child process is killed and temp folders deleted.
            press.Cancel = true;
            cancellation.Cancel();
        };

        Console.WriteLine(ResultTable.Header);
        try
        {
            foreach (var name in command.Scenarios)
            {
                var scenario = Array.Find(Scenarios, candidate => candidate.Name == name).Create(command);
                await foreach (var row in scenario.RunAsync(cancellation.Token))
                {
                    Console.WriteLine(ResultTable.Format(row));
                }
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            StatusLog.Write("cancelled");
            return CancelledExitCode;
        }
        catch (Exception error)
        {
            // Scenarios have cleaned up on the way out; what remains is to say why the run stopped.
            StatusLog.Write($"failed: {error}");
            return FailedExitCode;
        }

        return 0;
    }
}
