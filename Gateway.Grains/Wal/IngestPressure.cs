using System.Globalization;
using Gateway.Devices;
using Gateway.Lanes;
using Gateway.Storage;
using Microsoft.Extensions.Options;

namespace Gateway.Wal;

/// <summary>
/// Decides whether ingest may take more messages: the WAL below its high-water marks and the data disk
/// above its free-space floor. A lane with a share below 1 or a floor of its own is refused earlier, so the
/// last of the buffer and of the disk stays for the lanes above it; nothing stored is ever evicted. Readiness
/// reports the same answer for the hard limits.
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

    /// <summary>Why new messages must be refused now whatever their lane (the hard limits), or <see cref="RefusalReason.None"/>.</summary>
    public (RefusalReason Reason, string? Detail) Check()
    {
        var backlog = CheckBacklog();
        return backlog.Reason != RefusalReason.None ? backlog : CheckDisk();
    }

    /// <summary>Why new messages of <paramref name="lane"/> must be refused now, or <see cref="RefusalReason.None"/>.</summary>
    public (RefusalReason Reason, string? Detail) Check(Lane lane)
    {
        ArgumentNullException.ThrowIfNull(lane);
        // A refusal names the lane when the lane's own limit refused it, not the gateway's.
        var lanePrefix = $"Lane '{lane.Name}' is full: ";
        var backlog = CheckBacklog(lane.Share, lane.Share < 1 ? lanePrefix : "");
        if (backlog.Reason != RefusalReason.None)
        {
            return backlog;
        }

        var floor = Math.Max(_options.DiskFreeFloorBytes, lane.DiskFreeFloorBytes ?? 0);
        return CheckDisk(floor, floor > _options.DiskFreeFloorBytes ? lanePrefix : "");
    }

    /// <summary>Backpressure: <see cref="RefusalReason.Backpressure"/> while the WAL is at or above a high-water mark.</summary>
    public (RefusalReason Reason, string? Detail) CheckBacklog() => CheckBacklog(1, "");

    /// <summary><see cref="RefusalReason.DiskFull"/> while the data disk is below its free-space floor.</summary>
    public (RefusalReason Reason, string? Detail) CheckDisk() => CheckDisk(_options.DiskFreeFloorBytes, "");

    private (RefusalReason Reason, string? Detail) CheckBacklog(double share, string lanePrefix)
    {
        var statistics = wal.GetStatistics();
        var messageLimit = (long)(_options.HighWaterMessages * share);
        if (statistics.PendingRecords >= messageLimit)
        {
            return (RefusalReason.Backpressure,
                $"{lanePrefix}The gateway holds {statistics.PendingRecords} undelivered records, at or above {Limit(messageLimit, share)}.");
        }

        var byteLimit = (long)(_options.HighWaterBytes * share);
        if (statistics.PendingBytes >= byteLimit)
        {
            return (RefusalReason.Backpressure,
                $"{lanePrefix}The gateway holds {statistics.PendingBytes} undelivered bytes, at or above {Limit(byteLimit, share)}.");
        }

        return (RefusalReason.None, null);
    }

    private static string Limit(long limit, double share) =>
        share < 1
            ? $"the lane's limit of {limit} ({(share * 100).ToString("0.#", CultureInfo.InvariantCulture)} % of the gateway's)"
            : $"its limit of {limit}";

    private (RefusalReason Reason, string? Detail) CheckDisk(long floor, string lanePrefix)
    {
        var free = DiskFreeBytes;
        if (free < floor)
        {
            return (RefusalReason.DiskFull, $"{lanePrefix}The data disk has {free} bytes free, below the floor of {floor}.");
        }

        return (RefusalReason.None, null);
    }
}
