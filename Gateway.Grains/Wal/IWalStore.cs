using Gateway.DeadLetters;
using Gateway.Partitions;

namespace Gateway.Wal;

/// <summary>
/// The durable message log the grains write and read. Every mutation is committed before its task
/// completes; the SQLite implementation shares one transaction among concurrent callers.
/// </summary>
public interface IWalStore
{
    /// <summary>Stores a device's batch; completes after the commit that holds it.</summary>
    Task AppendAsync(WalAppend append);

    /// <summary>
    /// Marks the partition's oldest Enqueued records InFlight and returns them in WAL order. Given a
    /// <paramref name="leaseholder"/>, leases nothing unless it is the partition's leaseholder (see <see cref="ClaimAsync"/>)
    /// or the partition has none; without one, no check (tools and tests).
    /// </summary>
    Task<IReadOnlyList<WalRecord>> LeaseAsync(PartitionKey partition, int maxRecords, long? leaseholder = null);

    /// <summary>Marks delivered records Acked.</summary>
    Task AckAsync(IReadOnlyList<WalRecord> records);

    /// <summary>Returns failed records to Enqueued, or makes them Dead; returns how many became Dead.</summary>
    Task<int> FailAsync(IReadOnlyList<WalRecord> records, DeliveryFailure failure);

    /// <summary>
    /// Returns a partition's InFlight records to Enqueued (after a crash or a lost activation). Given a
    /// <paramref name="leaseholder"/>, only while it is the partition's leaseholder or the partition has none.
    /// </summary>
    Task<int> RecoverInFlightAsync(PartitionKey partition, long? leaseholder = null);

    /// <summary>
    /// Makes <paramref name="leaseholder"/> (one partition grain activation) the partition's only leaseholder and returns
    /// the partition's InFlight records to Enqueued, in one commit: from then on an earlier activation still running
    /// on a silo declared dead can neither lease nor recover, so it can neither strand records nor reorder them.
    /// </summary>
    Task<int> ClaimAsync(PartitionKey partition, long leaseholder);

    /// <summary>Deletes up to <paramref name="limit"/> Acked deliveries older than <paramref name="cutoff"/>.</summary>
    Task<int> CompactAsync(DateTimeOffset cutoff, int limit);

    /// <summary>Dead letters matching <paramref name="filter"/> with a delivery id above <paramref name="after"/>, oldest first.</summary>
    Task<IReadOnlyList<DeadLetter>> ListDeadAsync(DeadLetterFilter filter, long after, int limit);

    /// <summary>Returns matching dead letters to Enqueued with a fresh attempt count.</summary>
    Task<DeadLetterChange> ReplayDeadAsync(DeadLetterFilter filter);

    /// <summary>Deletes matching dead letters; returns how many.</summary>
    Task<int> PurgeDeadAsync(DeadLetterFilter filter);

    /// <summary>What the WAL has committed about the device; <see cref="WalDeviceRecord.None"/> if nothing.</summary>
    Task<WalDeviceRecord> GetDeviceAsync(string deviceId);

    /// <summary>The device's most recent messages that carried a device message id, newest first.</summary>
    Task<IReadOnlyList<RecentDeviceMessage>> GetRecentDeviceMessagesAsync(string deviceId, DateTimeOffset since, int limit);

    /// <summary>Partitions holding Enqueued or InFlight records.</summary>
    Task<IReadOnlyList<PartitionKey>> GetPendingPartitionsAsync();

    /// <summary>
    /// Writes and commits a one-row probe through the same path as every other write, so readiness proves
    /// the WAL can be written now; throws when it cannot.
    /// </summary>
    Task ProbeWriteAsync();

    /// <summary>Counts of the WAL's content and work.</summary>
    WalStatistics GetStatistics();

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
}
