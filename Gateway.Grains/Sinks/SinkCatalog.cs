using Gateway.Routing;
using Microsoft.Extensions.Options;

namespace Gateway.Sinks;

/// <summary>The sinks this gateway delivers to, with their routes and circuit breakers, in configuration order.</summary>
public sealed class SinkCatalog : IDisposable
{
    /// <summary>Name of the sink used when none is configured.</summary>
    public const string DefaultSinkName = "file";

    private readonly Dictionary<string, Entry> _entries;

    /// <summary>A catalog of the given sinks, each with its route and circuit.</summary>
    public SinkCatalog(IEnumerable<(ISink Sink, SinkRoute Route, SinkCircuit Circuit)> sinks)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        var list = sinks.ToList();
        _entries = list.ToDictionary(entry => entry.Sink.Name, entry => new Entry(entry.Sink, entry.Circuit), StringComparer.Ordinal);
        Names = list.ConvertAll(entry => entry.Sink.Name);
        Routes = list.ConvertAll(entry => entry.Route);
    }

    /// <summary>Sink names in configuration order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Which messages each sink takes, in configuration order.</summary>
    public IReadOnlyList<SinkRoute> Routes { get; }

    /// <summary>Builds the configured sinks, or the default file sink under the data folder.</summary>
    public static SinkCatalog FromOptions(IOptions<SinkListOptions> sinkOptions, IOptions<GatewayOptions> gatewayOptions, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(sinkOptions);
        ArgumentNullException.ThrowIfNull(gatewayOptions);
        ArgumentNullException.ThrowIfNull(time);
        var gateway = gatewayOptions.Value;
        var configured = sinkOptions.Value.Sinks;
        if (configured.Count == 0)
        {
            configured = [new SinkOptions { Name = DefaultSinkName, Type = FileSink.TypeName, Path = Path.Combine(gateway.DataPath, "sink") }];
        }

        return new SinkCatalog(configured.Select(options => (
            Create(options, gateway, time),
            SinkRoute.From(options),
            new SinkCircuit(options.CircuitFailureThreshold, options.CircuitOpenDuration, time))));
    }

    /// <summary>The sink named <paramref name="name"/>, or null when it is not configured (any more).</summary>
    public ISink? Find(string name) => _entries.GetValueOrDefault(name)?.Sink;

    /// <summary>The circuit breaker of the sink named <paramref name="name"/>.</summary>
    public SinkCircuit CircuitOf(string name) => _entries[name].Circuit;

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var entry in _entries.Values)
        {
            (entry.Sink as IDisposable)?.Dispose();
        }
    }

    private static ISink Create(SinkOptions options, GatewayOptions gateway, TimeProvider time)
    {
        ISink sink = options.Type switch
        {
            FileSink.TypeName => new FileSink(options.Name, options.Path ?? Path.Combine(gateway.DataPath, "sink", options.Name), options.MaxFileBytes),
            HttpSink.TypeName => new HttpSink(options),
            MqttSink.TypeName => new MqttSink(options, gateway.GatewayId),
            _ => throw new InvalidOperationException($"Sink '{options.Name}' has unknown type '{options.Type}'."),
        };
        return options.MessagesPerSecond > 0 || options.BytesPerSecond > 0
            ? new RateLimitedSink(sink, options.MessagesPerSecond, options.BytesPerSecond, time)
            : sink;
    }

    private sealed record Entry(ISink Sink, SinkCircuit Circuit);
}
