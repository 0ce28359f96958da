using Gateway.DeadLetters;

namespace Gateway.Wal;

/// <summary>
/// What operators read and change in the WAL, off the message path: dead letters, a message's lifecycle, partition
/// depths, the device directory and the database's size.
/// </summary>
public interface IWalAdmin
{
    /// <summary>Dead letters matching <paramref name="filter"/> with a delivery id above <paramref name="after"/>, oldest first.</summary>
    Task<IReadOnlyList<DeadLetter>> ListDeadAsync(DeadLetterFilter filter, long after, int limit);

    /// <summary>Returns matching dead letters to Enqueued with a fresh attempt count.</summary>
    Task<DeadLetterChange> ReplayDeadAsync(DeadLetterFilter filter);

    /// <summary>Deletes matching dead letters; returns how many.</summary>
    Task<int> PurgeDeadAsync(DeadLetterFilter filter);

    /// <summary>A message and every delivery's state history, or null when the WAL does not hold it (never stored, or compacted).</summary>
    Task<MessageLifecycle?> GetMessageLifecycleAsync(string messageId);

    /// <summary>Each partition of <paramref name="sink"/> that holds Enqueued, InFlight or Dead deliveries, by partition number.</summary>
    Task<IReadOnlyList<PartitionDepth>> GetPartitionDepthsAsync(string sink);

    /// <summary>How many of the device's deliveries are buffered and dead.</summary>
    Task<DeviceDeliveryCounts> GetDeviceDeliveryCountsAsync(string deviceId);

    /// <summary>
    /// Adds a device to the directory (for devices known before they send: provisioned, disabled) or moves its seen
    /// times forward (first seen is kept); committed on return.
    /// </summary>
    Task RecordDeviceAsync(DeviceDirectoryEntry entry);

    /// <summary>
    /// Known devices (those that stored messages, and those in the directory) by id after <paramref name="after"/>,
    /// optionally only those last seen at or after <paramref name="seenSince"/>.
    /// </summary>
    Task<IReadOnlyList<DeviceDirectoryEntry>> ListDevicesAsync(string? after, DateTimeOffset? seenSince, int limit);

    /// <summary>The database's size on disk and the oldest undelivered message.</summary>
    Task<WalStorage> GetStorageAsync();

    /// <summary>
    /// Each sink that has Enqueued or InFlight deliveries: how many, and when the oldest of their messages was
    /// received. One pass over the pending deliveries (the metrics read it at most once per scrape).
    /// </summary>
    Task<IReadOnlyList<SinkBacklog>> GetSinkBacklogsAsync();

    /// <summary>Each lane (by priority) that has Enqueued or InFlight deliveries: how many, their bytes, and the oldest's arrival.</summary>
    Task<IReadOnlyList<LaneBacklog>> GetLaneBacklogsAsync();
}
