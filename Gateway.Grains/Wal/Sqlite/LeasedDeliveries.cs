using Gateway.Partitions;

namespace Gateway.Wal.Sqlite;

/// <summary>
/// The SQLite WAL's InFlight state, held in memory instead of written: which deliveries a partition has leased and not
/// yet acked or failed, and when each was leased. One process owns the SQLite file, so this is the whole truth about
/// leases; a crash loses it, and that is exactly what recovery did with InFlight rows (they went back to Enqueued). What
/// a lease would have recorded, the ack or failure that settles it writes (the attempt's start, the first lease time).
/// </summary>
internal sealed class LeasedDeliveries
{
    private readonly Lock _lock = new();
    private readonly Dictionary<PartitionKey, Dictionary<long, DateTimeOffset>> _byPartition = [];
    private readonly Dictionary<long, PartitionKey> _partitionOf = [];

    // Deliveries an expiry is making Dead in a transaction not yet committed: not leased meanwhile (the lease reader
    // still sees them Enqueued), so a record a sink receives is never one the WAL shows expired.
    private readonly HashSet<long> _held = [];

    /// <summary>Deliveries leased and not settled, over all partitions.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _partitionOf.Count;
            }
        }
    }

    /// <summary>How many of the partition's deliveries are leased now.</summary>
    public int CountIn(PartitionKey partition)
    {
        lock (_lock)
        {
            return _byPartition.TryGetValue(partition, out var leased) ? leased.Count : 0;
        }
    }

    /// <summary>When the delivery was leased, or null when it is not leased now.</summary>
    public DateTimeOffset? LeasedAt(long deliveryId)
    {
        lock (_lock)
        {
            return _partitionOf.TryGetValue(deliveryId, out var partition) ? _byPartition[partition][deliveryId] : null;
        }
    }

    /// <summary>
    /// Leases, under this registry's lock, what <paramref name="readEnqueued"/> returns (the partition's oldest Enqueued
    /// rows, up to the number it is given) less the ones leased already: the lock makes read-and-mark one step.
    /// </summary>
    public List<WalRecord> Lease(PartitionKey partition, int limit, Func<int, List<WalRecord>> readEnqueued)
    {
        lock (_lock)
        {
            _byPartition.TryGetValue(partition, out var leased);
            var candidates = readEnqueued(limit + (leased?.Count ?? 0));
            var records = new List<WalRecord>(Math.Min(limit, candidates.Count));
            foreach (var candidate in candidates)
            {
                if (records.Count == limit)
                {
                    break;
                }

                if ((leased is null || !leased.ContainsKey(candidate.DeliveryId)) && !_held.Contains(candidate.DeliveryId))
                {
                    records.Add(candidate);
                }
            }

            if (records.Count > 0)
            {
                if (leased is null)
                {
                    _byPartition[partition] = leased = [];
                }

                foreach (var record in records)
                {
                    leased[record.DeliveryId] = record.LeasedAt;
                    _partitionOf[record.DeliveryId] = partition;
                }
            }

            return records;
        }
    }

    /// <summary>
    /// Keeps those of <paramref name="deliveryIds"/> that are not leased now from being leased until <see cref="Unhold"/>;
    /// returns them.
    /// </summary>
    public List<long> Hold(IEnumerable<long> deliveryIds)
    {
        lock (_lock)
        {
            var held = new List<long>();
            foreach (var deliveryId in deliveryIds)
            {
                if (!_partitionOf.ContainsKey(deliveryId) && _held.Add(deliveryId))
                {
                    held.Add(deliveryId);
                }
            }

            return held;
        }
    }

    /// <summary>Lets deliveries held by <see cref="Hold"/> be leased again (they are Dead now, or the change failed).</summary>
    public void Unhold(IEnumerable<long> deliveryIds)
    {
        lock (_lock)
        {
            _held.ExceptWith(deliveryIds);
        }
    }

    /// <summary>Those of <paramref name="records"/> that are leased now.</summary>
    public List<WalRecord> StillLeased(IReadOnlyList<WalRecord> records)
    {
        lock (_lock)
        {
            return records.Where(record => _partitionOf.ContainsKey(record.DeliveryId)).ToList();
        }
    }

    /// <summary>Forgets the leases of <paramref name="records"/> (acked or failed); returns how many were leased.</summary>
    public int Release(IReadOnlyList<WalRecord> records)
    {
        lock (_lock)
        {
            var released = 0;
            foreach (var record in records)
            {
                if (_partitionOf.Remove(record.DeliveryId, out var partition))
                {
                    released++;
                    var leased = _byPartition[partition];
                    leased.Remove(record.DeliveryId);
                    if (leased.Count == 0)
                    {
                        _byPartition.Remove(partition);
                    }
                }
            }

            return released;
        }
    }

    /// <summary>Returns every lease of the partition to the queue; returns how many there were.</summary>
    public int ReleaseAll(PartitionKey partition)
    {
        lock (_lock)
        {
            if (!_byPartition.Remove(partition, out var leased))
            {
                return 0;
            }

            foreach (var deliveryId in leased.Keys)
            {
                _partitionOf.Remove(deliveryId);
            }

            return leased.Count;
        }
    }
}
