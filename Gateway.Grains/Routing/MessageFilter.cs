using System.Text.RegularExpressions;

namespace Gateway.Routing;

/// <summary>
/// Which messages a sink route or a lane takes: those whose topic matches one of its MQTT topic filters and whose
/// device id matches one of its device patterns ('*' for any run of characters). An empty list matches everything.
/// </summary>
public sealed class MessageFilter
{
    private readonly IReadOnlyList<TopicFilter> _topics;
    private readonly IReadOnlyList<Regex> _devices;

    /// <summary>Parses the filters; throws <see cref="FormatException"/> for a topic filter that breaks the MQTT rules.</summary>
    public MessageFilter(IEnumerable<string> topics, IEnumerable<string> devices)
    {
        _topics = topics.Select(topic => new TopicFilter(topic)).ToList();
        _devices = devices.Select(ToRegex).ToList();
    }

    /// <summary>True when neither list holds anything, so every message matches.</summary>
    public bool MatchesEverything => _topics.Count == 0 && _devices.Count == 0;

    /// <summary>True when a message of <paramref name="deviceId"/> on <paramref name="topic"/> matches.</summary>
    public bool Matches(string deviceId, string topic) =>
        (_topics.Count == 0 || _topics.Any(filter => filter.Matches(topic)))
        && (_devices.Count == 0 || _devices.Any(pattern => pattern.IsMatch(deviceId)));

    private static Regex ToRegex(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace(@"\*", ".*", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
}
