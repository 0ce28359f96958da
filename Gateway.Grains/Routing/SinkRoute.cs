using Gateway.Sinks;

namespace Gateway.Routing;

/// <summary>
/// Which messages one sink takes: those whose topic matches one of its topic filters and whose device id
/// matches one of its device patterns ('*' for any run of characters). An empty list takes everything.
/// </summary>
public sealed class SinkRoute
{
    private readonly MessageFilter _filter;

    /// <summary>The route of a sink with the given filters.</summary>
    public SinkRoute(string sink, IEnumerable<string> topics, IEnumerable<string> devices)
    {
        Sink = sink;
        _filter = new MessageFilter(topics, devices);
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
    public bool Matches(string deviceId, string topic) => _filter.Matches(deviceId, topic);
}
