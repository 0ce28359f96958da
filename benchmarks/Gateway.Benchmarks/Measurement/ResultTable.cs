using System.Globalization;

namespace Gateway.Benchmarks.Measurement;

/// <summary>Formats results as a markdown table, one line per row, so they can be pasted into BENCHMARKS.md.</summary>
internal static class ResultTable
{
    /// <summary>The header and alignment lines.</summary>
    public const string Header = """
        | scenario | messages | seconds | messages/s | p50 ms | p99 ms | notes |
        |---|--:|--:|--:|--:|--:|---|
        """;

    /// <summary>One table line for <paramref name="row"/>.</summary>
    public static string Format(ResultRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return string.Create(CultureInfo.InvariantCulture,
            $"| {row.Scenario} | {row.Messages:N0} | {row.Elapsed.TotalSeconds:F2} | {row.MessagesPerSecond:N0} | {Milliseconds(row.Latency?.P50)} | {Milliseconds(row.Latency?.P99)} | {row.Notes} |");
    }

    private static string Milliseconds(TimeSpan? latency) =>
        latency is { } value ? value.TotalMilliseconds.ToString("F2", CultureInfo.InvariantCulture) : "-";
}
