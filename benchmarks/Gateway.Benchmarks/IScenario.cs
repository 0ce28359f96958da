using Gateway.Benchmarks.Measurement;

namespace Gateway.Benchmarks;

/// <summary>A benchmark subcommand: measures one thing, in one or more variants.</summary>
internal interface IScenario
{
    /// <summary>Runs every variant, yielding each row as soon as it is measured.</summary>
    IAsyncEnumerable<ResultRow> RunAsync(CancellationToken cancellationToken);
}
