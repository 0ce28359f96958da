using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Wal;

/// <summary>Deletes Acked records once they are older than the retention window, in bounded chunks.</summary>
public sealed partial class WalCompactionService(
    IDeliveryLog wal,
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
                await CompactOnceAsync().ConfigureAwait(false);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                LogCompactionFailed(logger, error);
            }
        }
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

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "WAL compaction failed; it runs again at the next interval")]
    private static partial void LogCompactionFailed(ILogger logger, Exception error);
}
