namespace Gateway.Benchmarks.Measurement;

/// <summary>One timed unit of work of a load worker.</summary>
/// <returns>True when it succeeded; a failure is counted but its latency is not sampled.</returns>
internal delegate Task<bool> LoadOperation(CancellationToken cancellationToken);
