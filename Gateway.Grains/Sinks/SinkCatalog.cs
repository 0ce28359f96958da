using Microsoft.Extensions.Options;

namespace Gateway.Sinks;

/// <summary>The sinks this gateway delivers to, by name, in configuration order.</summary>
public sealed class SinkCatalog : IDisposable
{
    /// <summary>Name of the sink used when none is configured.</summary>
    public const string DefaultSinkName = "file";

    private readonly Dictionary<string, ISink> _sinks;

    /// <summary>A catalog of the given sinks.</summary>
    public SinkCatalog(IEnumerable<ISink> sinks)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        var list = sinks.ToList();
        _sinks = list.ToDictionary(sink => sink.Name, StringComparer.Ordinal);
        Names = list.ConvertAll(sink => sink.Name);
    }

    /// <summary>Sink names in configuration order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Builds the configured sinks, or the default file sink under the data folder.</summary>
    public static SinkCatalog FromOptions(IOptions<SinkListOptions> sinkOptions, IOptions<GatewayOptions> gatewayOptions)
    {
        ArgumentNullException.ThrowIfNull(sinkOptions);
        ArgumentNullException.ThrowIfNull(gatewayOptions);
        var dataPath = gatewayOptions.Value.DataPath;
        var configured = sinkOptions.Value.Sinks;
        if (configured.Count == 0)
        {
            return new SinkCatalog([new FileSink(DefaultSinkName, Path.Combine(dataPath, "sink"), new SinkOptions().MaxFileBytes)]);
        }

        return new SinkCatalog(configured.Select(options => Create(options, dataPath)));
    }

    /// <summary>The sink named <paramref name="name"/>, or null when it is not configured (any more).</summary>
    public ISink? Find(string name) => _sinks.GetValueOrDefault(name);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var sink in _sinks.Values)
        {
            (sink as IDisposable)?.Dispose();
        }
    }

    private static ISink Create(SinkOptions options, string dataPath) => options.Type switch
    {
        FileSink.TypeName => new FileSink(options.Name, options.Path ?? Path.Combine(dataPath, "sink", options.Name), options.MaxFileBytes),
        _ => throw new InvalidOperationException($"Sink '{options.Name}' has unknown type '{options.Type}'."),
    };
}
