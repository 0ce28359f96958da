using System.Collections.Concurrent;
using Gateway.Telemetry;

namespace Gateway.Lanes;

/// <summary>
/// What happened to each lane's messages on this silo since it started: messages refused because the lane was full,
/// records expired. Counted for the admin API and, as counters, for metrics.
/// </summary>
public sealed class LaneActivity(GatewayMetrics metrics)
{
    private readonly ConcurrentDictionary<string, Counts> _byLane = new(StringComparer.Ordinal);

    /// <summary>Messages of <paramref name="lane"/> refused because it (or the gateway) was full.</summary>
    public void Refused(Lane lane, int messages)
    {
        ArgumentNullException.ThrowIfNull(lane);
        Interlocked.Add(ref CountsOf(lane.Name).Refused, messages);
        metrics.LaneRefused(lane.Name, messages);
    }

    /// <summary>Records of <paramref name="lane"/> that became Dead because they outlived its time to live.</summary>
    public void Expired(Lane lane, int records)
    {
        ArgumentNullException.ThrowIfNull(lane);
        Interlocked.Add(ref CountsOf(lane.Name).Expired, records);
        metrics.LaneExpired(lane.Name, records);
    }

    /// <summary>Messages of the lane refused since start.</summary>
    public long RefusedOf(string lane) => _byLane.TryGetValue(lane, out var counts) ? Interlocked.Read(ref counts.Refused) : 0;

    /// <summary>Records of the lane expired since start.</summary>
    public long ExpiredOf(string lane) => _byLane.TryGetValue(lane, out var counts) ? Interlocked.Read(ref counts.Expired) : 0;

    private Counts CountsOf(string lane) => _byLane.GetOrAdd(lane, _ => new Counts());

    private sealed class Counts
    {
        public long Refused;
        public long Expired;
    }
}
