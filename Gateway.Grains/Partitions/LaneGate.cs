using Gateway.Lanes;
using Gateway.Wal;

namespace Gateway.Partitions;

/// <summary>
/// Keeps one partition's lower lanes back while another partition of its sink has a higher lane to send, so that after
/// an outage a sink sends its critical backlog, from every partition, before any bulk record, not only within each
/// partition (the lease's own order). A partition held back for <see cref="HoldLimit"/> sends one batch of its own
/// lane anyway, so a higher-lane record that keeps failing slows the lanes below it but never stops them.
/// </summary>
/// <remarks>With one lane (no lanes configured) the gate is <see cref="Open"/>: it reads nothing and holds nothing.</remarks>
public sealed class LaneGate
{
    /// <summary>How long a partition is held back at most before it sends a batch of its own lane anyway.</summary>
    public static readonly TimeSpan HoldLimit = TimeSpan.FromSeconds(5);

    private readonly IDeliveryLog? _wal;
    private readonly PartitionKey _key;
    private readonly int _partitionCount;
    private readonly TimeProvider _time;
    private DateTimeOffset? _heldSince;

    private LaneGate(IDeliveryLog? wal, PartitionKey key, int partitionCount, TimeProvider time)
    {
        _wal = wal;
        _key = key;
        _partitionCount = partitionCount;
        _time = time;
    }

    /// <summary>A gate that never holds: every lease takes every lane, in the lease's order.</summary>
    public static LaneGate Open { get; } = new(null, default, 0, TimeProvider.System);

    /// <summary>The gate of partition <paramref name="key"/> when <paramref name="lanes"/> has more than one lane, else <see cref="Open"/>.</summary>
    public static LaneGate For(LaneCatalog lanes, IDeliveryLog wal, PartitionKey key, int partitionCount, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(lanes);
        return lanes.Lanes.Count > 1 ? new LaneGate(wal, key, partitionCount, time) : Open;
    }

    /// <summary>
    /// The sink is back after an outage: a hold starts afresh, so the higher lanes' backlog has the whole
    /// <see cref="HoldLimit"/> to go first, whatever the holds that ran out while nothing could be sent.
    /// </summary>
    public void SinkRecovered() => _heldSince = null;

    /// <summary>
    /// What the partition's next lease may take: up to the highest lane another partition of the sink waits to send
    /// (every lane when none does); null when another partition has a higher lane than any here, and this one must wait.
    /// </summary>
    public async Task<LaneLease?> NextLeaseAsync()
    {
        if (_wal is null)
        {
            return LaneLease.AllLanes;
        }

        var pending = await _wal.GetPendingLanesAsync(_key.Sink, _partitionCount);
        if (!pending.TryGetValue(_key.Partition, out var own))
        {
            // Nothing pending here: the lease finds nothing, as without lanes.
            _heldSince = null;
            return LaneLease.AllLanes;
        }

        int? othersHighest = null;
        foreach (var (partition, lanes) in pending)
        {
            if (partition != _key.Partition && (othersHighest is null || lanes.Highest < othersHighest))
            {
                othersHighest = lanes.Highest;
            }
        }

        if (othersHighest is { } waiting && own.Highest > waiting)
        {
            var now = _time.GetUtcNow();
            _heldSince ??= now;
            if (now - _heldSince.Value < HoldLimit)
            {
                return null;
            }

            // Held too long: one batch of its own highest lane.
            _heldSince = null;
            return new LaneLease(own.Highest, LowerLanesWait: own.Lowest > own.Highest);
        }

        _heldSince = null;
        var lastLane = othersHighest ?? Lane.LowestPriority;
        return new LaneLease(lastLane, LowerLanesWait: own.Lowest > lastLane);
    }
}

/// <summary>What a partition's lease may take.</summary>
/// <param name="LastLane">The lowest priority number the lease takes.</param>
/// <param name="LowerLanesWait">The partition holds records of lanes after <paramref name="LastLane"/>: more may be sent at once.</param>
public readonly record struct LaneLease(int LastLane, bool LowerLanesWait)
{
    /// <summary>Every lane, in the lease's order.</summary>
    public static LaneLease AllLanes => new(Lane.LowestPriority, LowerLanesWait: false);
}
