namespace Gateway.Benchmarks.Measurement;

/// <summary>The median and 99th percentile of a set of latencies.</summary>
internal sealed record LatencySummary(TimeSpan P50, TimeSpan P99)
{
    /// <summary>Summarizes <paramref name="latencyTicks"/> (TimeSpan ticks), or null when there are none. Sorts it in place.</summary>
    public static LatencySummary? From(long[] latencyTicks)
    {
        if (latencyTicks.Length == 0)
        {
            return null;
        }

        Array.Sort(latencyTicks);
        return new LatencySummary(Percentile(latencyTicks, 50), Percentile(latencyTicks, 99));
    }

    // Nearest rank: the smallest sample that at least percent% of the samples do not exceed.
    private static TimeSpan Percentile(long[] sorted, int percent)
    {
        var rank = (int)Math.Ceiling(percent / 100.0 * sorted.Length);
        return TimeSpan.FromTicks(sorted[Math.Max(rank, 1) - 1]);
    }
}
