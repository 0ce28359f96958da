using Gateway.Lanes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Wal;

/// <summary>
/// The WAL's housekeeping, every <see cref="WalOptions.CompactionInterval"/>: makes the records of lanes with a time to
/// live Dead once they outlive it, and deletes Acked records older than the retention window, in bounded chunks.
/// </summary>
public sealed partial class WalCompactionService(
    IDeliveryLog wal,
    LaneCatalog lanes,
    LaneActivity laneActivity,
    IOptions<WalOptions> options,
    TimeProvider time,
    ILogger<WalCompactionService> logger) : BackgroundService
{
    private const int ChunkSize = 10_000;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CompactionInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await ExpireOnceAsync().ConfigureAwait(false);
                await CompactOnceAsync().ConfigureAwait(false);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                LogCompactionFailed(logger, error);
            }
        }
    }

    /// <summary>Makes Dead every record that has outlived its lane's time to live; returns how many.</summary>
    public async Task<int> ExpireOnceAsync()
    {
        var total = 0;
        foreach (var lane in lanes.Lanes)
        {
            if (lane.TimeToLive is not { } timeToLive)
            {
                continue;
            }

            var cutoff = time.GetUtcNow() - timeToLive;
            LaneChange expired;
            do
            {
                expired = await wal.ExpireAsync(lane.Priority, cutoff, ChunkSize).ConfigureAwait(false);
                if (expired.Count > 0)
                {
                    laneActivity.Expired(lane, expired.Count);
                    LogExpired(logger, expired.Count, lane.Name);
                }

                total += expired.Count;
            }
            while (expired.Count == ChunkSize);
        }

        return total;
    }

    /// <summary>Deletes every Acked record older than the retention window; returns how many.</summary>
    public async Task<int> CompactOnceAsync()
    {
        var cutoff = time.GetUtcNow() - options.Value.AckedRetention;
        var total = 0;
        int deleted;
        do
        {
            // Chunks keep each transaction short, so ingest commits are not held up behind compaction.
            deleted = await wal.CompactAsync(cutoff, ChunkSize).ConfigureAwait(false);
            total += deleted;
        }
        while (deleted == ChunkSize);

        if (total > 0)
        {
            LogCompacted(logger, total);
        }

        return total;
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Compacted {Count} acknowledged WAL records")]
    private static partial void LogCompacted(ILogger logger, int count);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "{Count} records of lane {Lane} outlived its time to live and are dead letters now (reason expired)")]
    private static partial void LogExpired(ILogger logger, int count, string lane);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "WAL compaction failed; it runs again at the next interval")]
    private static partial void LogCompactionFailed(ILogger logger, Exception error);
}
