using Microsoft.Extensions.Logging;

namespace Gateway.Telemetry;

/// <summary>
/// A value that costs a read to know (a database query, the readiness checks), kept for the metrics. A scrape gets
/// what the last read found and, when that is older than <c>maxAge</c>, starts the next read in the background: so
/// nothing is read while nobody scrapes, and a scrape never waits for the disk. A value is at most one scrape
/// interval older than the scrape that shows it.
/// </summary>
/// <typeparam name="T">What one read returns.</typeparam>
public sealed partial class ScrapeSample<T>(Func<Task<T>> read, TimeSpan maxAge, TimeProvider time, ILogger logger)
    where T : class
{
    private T? _latest;
    private long _readAt;
    private int _reading;

    /// <summary>The last value read, or null before the first read ended (or after a read failed).</summary>
    public T? Latest
    {
        get
        {
            var latest = Volatile.Read(ref _latest);
            if (latest is null || time.GetElapsedTime(Interlocked.Read(ref _readAt)) >= maxAge)
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
                var value = await read().ConfigureAwait(false);
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
