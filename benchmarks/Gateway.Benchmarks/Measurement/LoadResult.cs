namespace Gateway.Benchmarks.Measurement;

/// <summary>What a <see cref="ConcurrentLoad"/> run measured.</summary>
/// <param name="Elapsed">Wall time from the first operation's start to the last one's end.</param>
/// <param name="Operations">Operations run, successful or not.</param>
/// <param name="Failures">Operations that reported failure.</param>
/// <param name="Latency">Percentiles of the successful operations, or null when none succeeded.</param>
internal sealed record LoadResult(TimeSpan Elapsed, int Operations, int Failures, LatencySummary? Latency);
