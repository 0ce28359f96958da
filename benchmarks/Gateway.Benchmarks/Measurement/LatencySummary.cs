namespace Gateway.Benchmarks.Measurement;

/// <summary>The median, 99th and 99.9th percentile of a set of latencies.</summary>
internal sealed record LatencySummary(TimeSpan P50, TimeSpan P99)
{
    /// <summary>The 99.9th percentile: one operation in a thousand waited at least this long.</summary>
    public TimeSpan P999 { get; init; }

    /// <summary>How many latencies were summarized.</summary>
    public int Count { get; init; }

    /// <summary>Summarizes <paramref name="latencyTicks"/> (TimeSpan ticks), or null when there are none. Sorts it in place.</summary>
    public static LatencySummary? From(long[] latencyTicks)
    {
        ArgumentNullException.ThrowIfNull(latencyTicks);
        if (latencyTicks.Length == 0)
        {
            return null;
        }

        Array.Sort(latencyTicks);
        return new LatencySummary(Percentile(latencyTicks, 50), Percentile(latencyTicks, 99))
        {
            P999 = Percentile(latencyTicks, 99.9),
            Count = latencyTicks.Length,
        };
    }

    // Nearest rank: the smallest sample that at least percent% of the samples do not exceed.
    private static TimeSpan Percentile(long[] sorted, double percent)
    {
        var rank = (int)Math.Ceiling(percent / 100.0 * sorted.Length);
        return TimeSpan.FromTicks(sorted[Math.Max(rank, 1) - 1]);
    }
}
