using Gateway.Partitions;

namespace Gateway.Wal;

/// <summary>
/// The durable message log on the message path: what device and partition grains, readiness and compaction write
/// and read. Every mutation is committed before its task completes; the SQLite implementation shares one transaction
/// among concurrent callers.
/// </summary>
public interface IDeliveryLog
{
    /// <summary>Stores a device's batch; completes after the commit that holds it.</summary>
    Task AppendAsync(WalAppend append);

    /// <summary>
    /// Marks the partition's next Enqueued records InFlight and returns them: the highest lane first (lowest priority
    /// number), each lane in WAL order. Given a
    /// <paramref name="leaseholder"/>, leases nothing unless it is the partition's leaseholder (see <see cref="ClaimAsync"/>)
    /// or the partition has none; without one, no check (tools and tests). Takes no record of a lane after
    /// <paramref name="lastLane"/> (the lowest priority number it leases; by default every lane).
    /// </summary>
    Task<IReadOnlyList<WalRecord>> LeaseAsync(PartitionKey partition, int maxRecords, long? leaseholder = null, int lastLane = Lanes.Lane.LowestPriority);

    /// <summary>
    /// For each of the sink's partitions (0 to <paramref name="partitionCount"/> - 1) that holds Enqueued or InFlight
    /// records, the highest and the lowest lane among them: what the sink's partitions must send before any lower lane,
    /// and whether a partition has lower lanes waiting. Two index seeks per partition.
    /// </summary>
    Task<IReadOnlyDictionary<int, PendingLanes>> GetPendingLanesAsync(string sink, int partitionCount);

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

    /// <summary>
    /// Makes Dead, with reason <see cref="DeliveryFailure.Expired"/>, up to <paramref name="limit"/> Enqueued records of the
    /// lane of priority <paramref name="lane"/> that have waited since before <paramref name="cutoff"/> (received, or last
    /// replayed, then). Records a partition is sending are left to their attempt. Returns how many, and their bytes.
    /// </summary>
    Task<LaneChange> ExpireAsync(int lane, DateTimeOffset cutoff, int limit);

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
}
