using Gateway.Devices;
using Gateway.Storage;
using Microsoft.Extensions.Options;

namespace Gateway.Wal;

/// <summary>
/// Decides whether ingest may take more messages: the WAL below its high-water marks and the data disk
/// above its free-space floor. Readiness reports the same answer.
/// </summary>
public sealed class IngestPressure(IDeliveryLog wal, SqliteDatabase database, IOptions<WalOptions> options, TimeProvider time)
{
    private static readonly TimeSpan DiskCheckInterval = TimeSpan.FromSeconds(1);
    private readonly WalOptions _options = options.Value;
    private readonly DriveInfo _drive = new(database.DataPath);
    private long _diskFreeBytes = long.MaxValue;
    private long _diskCheckedAtTicks = long.MinValue / 2;

    /// <summary>How long a refused sender should wait before retrying.</summary>
    public TimeSpan RetryAfter => TimeSpan.FromSeconds(_options.RetryAfterSeconds);

    /// <summary>Free bytes on the data folder's disk, checked at most once a second.</summary>
    public long DiskFreeBytes
    {
        get
        {
            var now = time.GetTimestamp();
            if (time.GetElapsedTime(Interlocked.Read(ref _diskCheckedAtTicks), now) >= DiskCheckInterval)
            {
                Interlocked.Exchange(ref _diskFreeBytes, _drive.AvailableFreeSpace);
                Interlocked.Exchange(ref _diskCheckedAtTicks, now);
            }

            return Interlocked.Read(ref _diskFreeBytes);
        }
    }

    /// <summary>The free-space floor of the data disk, in bytes.</summary>
    public long DiskFreeFloorBytes => _options.DiskFreeFloorBytes;

    /// <summary>Why new messages must be refused now, or <see cref="RefusalReason.None"/>.</summary>
    public (RefusalReason Reason, string? Detail) Check()
    {
        var backlog = CheckBacklog();
        return backlog.Reason != RefusalReason.None ? backlog : CheckDisk();
    }

    /// <summary>Backpressure: <see cref="RefusalReason.Backpressure"/> while the WAL is at or above a high-water mark.</summary>
    public (RefusalReason Reason, string? Detail) CheckBacklog()
    {
        var statistics = wal.GetStatistics();
        if (statistics.PendingRecords >= _options.HighWaterMessages)
        {
            return (RefusalReason.Backpressure,
                $"The gateway holds {statistics.PendingRecords} undelivered records, at or above its limit of {_options.HighWaterMessages}.");
        }

        if (statistics.PendingBytes >= _options.HighWaterBytes)
        {
            return (RefusalReason.Backpressure,
                $"The gateway holds {statistics.PendingBytes} undelivered bytes, at or above its limit of {_options.HighWaterBytes}.");
        }

        return (RefusalReason.None, null);
    }

    /// <summary><see cref="RefusalReason.DiskFull"/> while the data disk is below its free-space floor.</summary>
    public (RefusalReason Reason, string? Detail) CheckDisk()
    {
        var free = DiskFreeBytes;
        if (free < _options.DiskFreeFloorBytes)
        {
            return (RefusalReason.DiskFull,
                $"The data disk has {free} bytes free, below the floor of {_options.DiskFreeFloorBytes}.");
        }

        return (RefusalReason.None, null);
    }
}
