using System.Globalization;
using Microsoft.Extensions.Options;

namespace Gateway.Lanes;

/// <summary>
/// The configured lanes, highest priority first, and which one a message takes: the highest-priority lane whose filters
/// match it, else the lane without filters. Without configuration, one lane (<see cref="Default"/>) takes everything,
/// so a gateway that configures none behaves as if lanes did not exist.
/// </summary>
public sealed class LaneCatalog
{
    private readonly IReadOnlyList<Lane> _filtered;
    private readonly Lane _rest;

    /// <summary>The catalog of <paramref name="lanes"/>; exactly one of them must take the rest (see <see cref="LaneListOptionsValidator"/>).</summary>
    public LaneCatalog(IEnumerable<Lane> lanes)
    {
        Lanes = lanes.OrderBy(lane => lane.Priority).ToList();
        _filtered = Lanes.Where(lane => !lane.TakesTheRest).ToList();
        _rest = Lanes.Single(lane => lane.TakesTheRest);
    }

    /// <summary>The lane of a gateway that configures none.</summary>
    public static Lane Default { get; } = new(new LaneOptions { Name = "normal", Priority = Lane.DefaultPriority });

    /// <summary>Every lane, highest priority (lowest number) first.</summary>
    public IReadOnlyList<Lane> Lanes { get; }

    /// <summary>The catalog the options describe.</summary>
    public static LaneCatalog FromOptions(IOptions<LaneListOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var configured = options.Value.Lanes;
        return new LaneCatalog(configured.Count == 0 ? [Default] : configured.Select(lane => new Lane(lane)));
    }

    /// <summary>The lane a message of <paramref name="deviceId"/> on <paramref name="topic"/> takes.</summary>
    public Lane LaneOf(string deviceId, string topic)
    {
        foreach (var lane in _filtered)
        {
            if (lane.Matches(deviceId, topic))
            {
                return lane;
            }
        }

        return _rest;
    }

    /// <summary>
    /// The name of the lane of <paramref name="priority"/>; for records stored under a priority no lane has now (the
    /// configuration changed), the number itself.
    /// </summary>
    public string NameOf(int priority)
    {
        foreach (var lane in Lanes)
        {
            if (lane.Priority == priority)
            {
                return lane.Name;
            }
        }

        return priority.ToString(CultureInfo.InvariantCulture);
    }
}
