using System.Diagnostics;
using System.Globalization;

namespace Gateway.Benchmarks;

/// <summary>Progress lines on stderr, so that stdout holds nothing but the results table.</summary>
internal static class StatusLog
{
    private static readonly long Started = Stopwatch.GetTimestamp();

    public static void Write(string message) =>
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{Stopwatch.GetElapsedTime(Started).TotalSeconds,7:F1}s] {message}"));
}
