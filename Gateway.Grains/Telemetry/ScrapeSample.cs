using Microsoft.Extensions.Logging;

namespace Gateway.Telemetry;

/// <summary>
/// A value that costs a read to know (a database query, the readiness checks), kept for the metrics. A scrape gets
/// what the last read found and, when that is older than <c>maxAge</c>, starts the next read in the background: so
/// nothing is read while nobody scrapes, and a scrape never waits for the disk. A value is at most one scrape
/// interval older than the scrape that shows it. A slow read is reused for longer (at least
/// <see cref="CostFactor"/> times what it took), so reading costs at most about 2 % of a core however large
/// what it reads grows (a million pending deliveries).
/// </summary>
/// <typeparam name="T">What one read returns.</typeparam>
public sealed partial class ScrapeSample<T>(Func<Task<T>> read, TimeSpan maxAge, TimeProvider time, ILogger logger)
    where T : class
{
    /// <summary>A reading is kept at least this many times as long as it took.</summary>
    public const int CostFactor = 50;

    private T? _latest;
    private long _readAt;
    private long _reuseTicks;
    private int _reading;

    /// <summary>The last value read, or null before the first read ended (or after a read failed).</summary>
    public T? Latest
    {
        get
        {
            var latest = Volatile.Read(ref _latest);
            if (latest is null || time.GetElapsedTime(Interlocked.Read(ref _readAt)).Ticks >= Interlocked.Read(ref _reuseTicks))
            {
                StartRead();
            }

            return latest;
        }
    }

    private void StartRead()
    {
        if (Interlocked.Exchange(ref _reading, 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var started = time.GetTimestamp();
                var value = await read().ConfigureAwait(false);
                var took = time.GetElapsedTime(started);
                Interlocked.Exchange(ref _reuseTicks, Math.Max(maxAge.Ticks, took.Ticks * CostFactor));
                Interlocked.Exchange(ref _readAt, time.GetTimestamp());
                Volatile.Write(ref _latest, value);
            }
            catch (Exception error)
            {
                // No series is better than a stale one that looks current.
                Volatile.Write(ref _latest, null);
                LogReadFailed(logger, typeof(T).Name, error);
            }
            finally
            {
                Volatile.Write(ref _reading, 0);
            }
        });
    }

    [LoggerMessage(EventId = 7301, Level = LogLevel.Warning, Message = "Reading {Sample} for the metrics failed; its series are left out until a read succeeds.")]
    private static partial void LogReadFailed(ILogger logger, string sample, Exception error);
}
