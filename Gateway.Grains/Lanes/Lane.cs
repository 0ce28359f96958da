using Gateway.Routing;

namespace Gateway.Lanes;

/// <summary>
/// A priority lane. The WAL stores a record's lane as its <see cref="Priority"/>, so within a partition records are
/// leased by priority, then in WAL order.
/// </summary>
public sealed class Lane
{
    /// <summary>The priority of the lane every message takes when none is configured, and of records stored before lanes existed.</summary>
    public const int DefaultPriority = 4;

    /// <summary>The last priority a lane may have: a lease up to it takes every lane.</summary>
    public const int LowestPriority = 9;

    private readonly MessageFilter _filter;

    /// <summary>A lane as its options describe it.</summary>
    public Lane(LaneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Name = options.Name;
        Priority = options.Priority;
        Share = options.Share;
        DiskFreeFloorBytes = options.DiskFreeFloorBytes;
        TimeToLive = options.TimeToLive;
        _filter = new MessageFilter(options.Topics, options.Devices);
    }

    /// <summary>The lane's name.</summary>
    public string Name { get; }

    /// <summary>0 (sent first) to 9.</summary>
    public int Priority { get; }

    /// <summary>The fraction of the WAL's high-water marks up to which the lane is accepted.</summary>
    public double Share { get; }

    /// <summary>The lane's own free-space floor, when it has one above the WAL's.</summary>
    public long? DiskFreeFloorBytes { get; }

    /// <summary>How long the lane's records may wait for delivery; null: for ever.</summary>
    public TimeSpan? TimeToLive { get; }

    /// <summary>True when the lane has no filters: it takes what no other lane takes.</summary>
    public bool TakesTheRest => _filter.MatchesEverything;

    /// <summary>True when the lane's filters take a message of <paramref name="deviceId"/> on <paramref name="topic"/>.</summary>
    public bool Matches(string deviceId, string topic) => _filter.Matches(deviceId, topic);
}
