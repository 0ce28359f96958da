using System.ComponentModel.DataAnnotations;

namespace Gateway.Partitions;

/// <summary>Settings under <c>Gateway:Delivery</c>: partitioning, batching, retries and dead-lettering.</summary>
public sealed class DeliveryOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gateway:Delivery";

    /// <summary>
    /// Outbound partitions per sink. Changing it while records are pending may reorder those records,
    /// since a device then maps to another partition.
    /// </summary>
    [Range(1, 1024, ErrorMessage = "Gateway:Delivery:PartitionCount must be between 1 and 1024.")]
    public int PartitionCount { get; set; } = 8;

    /// <summary>
    /// How long a woken partition waits for more records before it sends a batch that is not full. Every partition
    /// sends on the same grid of this period, so at low rates their leases and acks share WAL commits and their
    /// file writes share a sync: a Pi at 100 msgs/s then pays a few egress commits per second, not three per
    /// message. A full batch is sent at once. 0 sends as soon as a record is committed. Half a second by default: at
    /// 100 msgs/s that writes about a fifth less to flash per message than 100 ms did (BENCHMARKS.md), and forwarding
    /// telemetry half a second later is invisible to what consumes it; lower it where a consumer must see data sooner.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10", ErrorMessage = "Gateway:Delivery:Linger must be between 0 and 10 seconds.")]
    public TimeSpan Linger { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Most records a partition sends in one batch.</summary>
    [Range(1, 100_000, ErrorMessage = "Gateway:Delivery:BatchSize must be between 1 and 100000.")]
    public int BatchSize { get; set; } = 500;

    /// <summary>Failed attempts after which a record becomes Dead.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "Gateway:Delivery:MaxAttempts must be at least 1.")]
    public int MaxAttempts { get; set; } = 100;

    /// <summary>Age after which a record that fails once more becomes Dead.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00", ErrorMessage = "Gateway:Delivery:MaxAge must be between 1 second and 3650 days.")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>First retry delay; each further failure doubles it, up to <see cref="BackoffCap"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00", ErrorMessage = "Gateway:Delivery:BackoffBase must be between 1 ms and 1 hour.")]
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest retry delay.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00", ErrorMessage = "Gateway:Delivery:BackoffCap must be between 1 ms and 1 day.")]
    public TimeSpan BackoffCap { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Longest a sink may take to deliver one batch before the attempt counts as failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00", ErrorMessage = "Gateway:Delivery:SendTimeout must be between 100 ms and 1 hour.")]
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Period of the durable reminder that wakes a partition with pending work after a restart.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Gateway:Delivery:ReminderPeriod must be between 1 second and 1 day.")]
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);
}
