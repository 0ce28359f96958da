using System.ComponentModel.DataAnnotations;

namespace Gateway.Wal;

/// <summary>Settings under <c>Gateway:Wal</c>: group commit, backpressure and retention.</summary>
public sealed class WalOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gateway:Wal";

    /// <summary>Most operations (appends, leases, acks) one transaction commits together.</summary>
    [Range(1, 100_000, ErrorMessage = "Gateway:Wal:MaxBatchOperations must be between 1 and 100000.")]
    public int MaxBatchOperations { get; set; } = 1024;

    /// <summary>
    /// How long a SQLite commit that syncs may wait for more appends to share its sync, when the recent rate says they
    /// are coming (<c>CommitLinger</c>); zero commits at once. It adds at most this much to a PUBACK.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:00.100", ErrorMessage = "Gateway:Wal:CommitLinger must be between 0 and 100 ms.")]
    public TimeSpan CommitLinger { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Undelivered records above which ingest refuses new messages.</summary>
    [Range(1, long.MaxValue, ErrorMessage = "Gateway:Wal:HighWaterMessages must be positive.")]
    public long HighWaterMessages { get; set; } = 2_000_000;

    /// <summary>Undelivered payload bytes above which ingest refuses new messages.</summary>
    [Range(1, long.MaxValue, ErrorMessage = "Gateway:Wal:HighWaterBytes must be positive.")]
    public long HighWaterBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Free bytes on the data folder's disk below which ingest refuses new messages.</summary>
    [Range(0, long.MaxValue, ErrorMessage = "Gateway:Wal:DiskFreeFloorBytes must not be negative.")]
    public long DiskFreeFloorBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How long acknowledged records stay for inspection before compaction deletes them.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00", ErrorMessage = "Gateway:Wal:AckedRetention must be between 0 and 365 days.")]
    public TimeSpan AckedRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often compaction runs.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Gateway:Wal:CompactionInterval must be between 1 second and 1 day.")]
    public TimeSpan CompactionInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The retry delay suggested to senders refused by backpressure (HTTP Retry-After).</summary>
    [Range(1, 3600, ErrorMessage = "Gateway:Wal:RetryAfterSeconds must be between 1 and 3600.")]
    public int RetryAfterSeconds { get; set; } = 5;
}
