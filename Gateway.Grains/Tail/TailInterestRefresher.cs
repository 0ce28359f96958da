using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Tail;

/// <summary>Fetches the cluster's watched tail streams into this silo's <see cref="TailInterest"/> every second.</summary>
public sealed partial class TailInterestRefresher(
    IGrainFactory grains, TailInterest interest, TimeProvider time, ILogger<TailInterestRefresher> logger) : BackgroundService
{
    /// <summary>How long a viewer on another silo may wait before this silo's devices publish to it.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var started = time.GetUtcNow();
            try
            {
                interest.Replace(await grains.GetGrain<ITailRegistryGrain>(0).GetWatchedPartitionsAsync(), started);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                // Starting up, shutting down, or the registry moving: the last known set holds until the next tick.
                LogRefreshFailed(logger, error);
            }
        }
    }

    [LoggerMessage(EventId = 6101, Level = LogLevel.Debug, Message = "Reading which live tails are watched failed; trying again in a second")]
    private static partial void LogRefreshFailed(ILogger logger, Exception error);
}
