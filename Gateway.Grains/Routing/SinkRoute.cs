using System.Text.RegularExpressions;
using Gateway.Sinks;

namespace Gateway.Routing;

/// <summary>
/// Which messages one sink takes: those whose topic matches one of its topic filters and whose device id
/// matches one of its device patterns ('*' for any run of characters). An empty list takes everything.
/// </summary>
public sealed class SinkRoute
{
    private readonly IReadOnlyList<TopicFilter> _topics;
    private readonly IReadOnlyList<Regex> _devices;

    /// <summary>The route of a sink with the given filters.</summary>
    public SinkRoute(string sink, IEnumerable<string> topics, IEnumerable<string> devices)
    {
        Sink = sink;
        _topics = topics.Select(topic => new TopicFilter(topic)).ToList();
        _devices = devices.Select(ToRegex).ToList();
    }

    /// <summary>The sink this route feeds.</summary>
    public string Sink { get; }

    /// <summary>The route a sink's options describe.</summary>
    public static SinkRoute From(SinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new SinkRoute(options.Name, options.Topics, options.Devices);
    }

    /// <summary>True when the sink takes a message of <paramref name="deviceId"/> on <paramref name="topic"/>.</summary>
    public bool Matches(string deviceId, string topic) =>
        (_topics.Count == 0 || _topics.Any(filter => filter.Matches(topic)))
        && (_devices.Count == 0 || _devices.Any(pattern => pattern.IsMatch(deviceId)));

    private static Regex ToRegex(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace(@"\*", ".*", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
}
