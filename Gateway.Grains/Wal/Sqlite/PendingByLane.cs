namespace Gateway.Wal.Sqlite;

/// <summary>
/// The SQLite WAL's pending deliveries (Enqueued or InFlight) and their payload bytes, by lane priority, kept up to date
/// by every committed change so that metrics, the admin API and the byte high-water mark never scan the tables.
/// Safe from any thread.
/// </summary>
internal sealed class PendingByLane
{
    private const int Priorities = 10;
    private readonly long[] _records = new long[Priorities];
    private readonly long[] _bytes = new long[Priorities];

    /// <summary>Payload bytes of every pending delivery.</summary>
    public long TotalBytes
    {
        get
        {
            long total = 0;
            for (var lane = 0; lane < Priorities; lane++)
            {
                total += Interlocked.Read(ref _bytes[lane]);
            }

            return total;
        }
    }

    /// <summary>Adds pending deliveries (negative: ones that left, acked, dead or expired) and their bytes to a lane.</summary>
    public void Add(int lane, long records, long bytes)
    {
        Interlocked.Add(ref _records[lane], records);
        Interlocked.Add(ref _bytes[lane], bytes);
    }

    /// <summary>Takes out the deliveries that left, one by one (acked or dead).</summary>
    public void Remove(IEnumerable<WalRecord> records)
    {
        foreach (var record in records)
        {
            Add(record.Lane, -1, -record.Payload.Length);
        }
    }

    /// <summary>Lanes with pending deliveries, by priority.</summary>
    public List<(int Lane, long Records, long Bytes)> Snapshot()
    {
        var lanes = new List<(int, long, long)>();
        for (var lane = 0; lane < Priorities; lane++)
        {
            var records = Interlocked.Read(ref _records[lane]);
            if (records > 0)
            {
                // Before the start-up byte sum lands, acks of records stored before the start subtract bytes never added.
                lanes.Add((lane, records, Math.Max(0, Interlocked.Read(ref _bytes[lane]))));
            }
        }

        return lanes;
    }
}
