namespace Gateway.Partitions;

/// <summary>
/// Exponential backoff with jitter: the n-th consecutive failure waits a random time between half and all
/// of min(cap, base * 2^(n-1)), so partitions that failed together do not retry together.
/// </summary>
public sealed class RetryBackoff(TimeSpan baseDelay, TimeSpan cap, Random random)
{
    /// <summary>The delay before the next attempt after <paramref name="consecutiveFailures"/> failures.</summary>
    /// <param name="consecutiveFailures">Failures in a row, at least 1.</param>
    /// <param name="retryAfter">A delay the sink asked for (HTTP Retry-After); the result is never shorter.</param>
    public TimeSpan Next(int consecutiveFailures, TimeSpan? retryAfter = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(consecutiveFailures, 1);
        var exponent = Math.Min(consecutiveFailures - 1, 30);
        var ceiling = Math.Min(cap.Ticks, baseDelay.Ticks * (1L << exponent));
        var delay = TimeSpan.FromTicks(ceiling / 2 + (long)(random.NextDouble() * (ceiling / 2)));
        return retryAfter is { } asked && asked > delay ? asked : delay;
    }
}
