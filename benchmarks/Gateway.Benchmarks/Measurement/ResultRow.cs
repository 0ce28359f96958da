namespace Gateway.Benchmarks.Measurement;

/// <summary>One line of the results table.</summary>
/// <param name="Scenario">Scenario and variant.</param>
/// <param name="Messages">Messages the measured run carried (warm-up excluded).</param>
/// <param name="Elapsed">Wall time of the measured run.</param>
/// <param name="Latency">Per-operation latency, when one operation is something a caller waits for.</param>
/// <param name="Notes">What else the run showed: transactions, errors, set-up times.</param>
internal sealed record ResultRow(string Scenario, long Messages, TimeSpan Elapsed, LatencySummary? Latency, string Notes)
{
    /// <summary>Throughput of the measured run.</summary>
    public double MessagesPerSecond => Messages / Elapsed.TotalSeconds;
}
