using System.Diagnostics;
using System.Globalization;
using Gateway.Ingest.Http;
using Gateway.Ingest.Mqtt;
using Gateway.Silo.Admin;
using Gateway.Silo.Dashboard;
using Gateway.Silo.Health;
using Gateway.Silo.Hosting;
using Gateway.Silo.Telemetry;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Gateway.Tests.Operations;

/// <summary>
/// The gateway composed exactly as Program.cs does, but inside the test process, so an in-memory exporter
/// sees its spans. Tracing is on; sinks are the file sink and an HTTP sink posting to <see cref="Upstream"/>.
/// </summary>
public class InProcessGateway : IAsyncLifetime
{
    public const string UpstreamSink = "upstream";

    private readonly TempDirectory _directory = new();
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private WebApplication? _app;

    public InProcessGateway()
        : this(new Dictionary<string, string?>())
    {
    }

    /// <summary>A gateway with <paramref name="settings"/> added to (or replacing) the defaults below.</summary>
    protected InProcessGateway(IReadOnlyDictionary<string, string?> settings) => _settings = settings;

    /// <summary>Every span the gateway finished, in the order they ended.</summary>
    public SpanCollection Spans { get; } = new();

    /// <summary>The cloud endpoint the HTTP sink posts to, over HTTPS with a test CA.</summary>
    public CloudReceiver Upstream { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>A client of the operations port.</summary>
    public HttpClient Operations { get; private set; } = null!;

    /// <summary>The host's services (the silo's too).</summary>
    public IServiceProvider Services => _app!.Services;

    public string DataPath => _directory.Path;

    /// <summary>The embedded MQTT broker's plaintext (anonymous, loopback) port.</summary>
    public int MqttPort { get; } = FreePort.Next();

    public string SinkFolder => _directory.Combine("sink");

    public async Task InitializeAsync()
    {
        var certificates = new TestCertificates(_directory.Combine("certificates"));
        Upstream = await CloudReceiver.StartAsync(certificates.Server);
        var httpPort = FreePort.Next();
        var operationsPort = FreePort.Next();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:DataPath"] = _directory.Path,
            ["Gateway:Http:Port"] = httpPort.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Operations:Port"] = operationsPort.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Orleans:SiloPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["Gateway:Orleans:GatewayPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["Gateway:Telemetry:Tracing"] = "true",
            ["Gateway:Dashboard:Enabled"] = "false",
            ["Gateway:Mqtt:Port"] = MqttPort.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Sinks:0:Name"] = "file",
            ["Gateway:Sinks:0:Type"] = "file",
            ["Gateway:Sinks:0:Path"] = SinkFolder,
            ["Gateway:Sinks:1:Name"] = UpstreamSink,
            ["Gateway:Sinks:1:Type"] = "http",
            ["Gateway:Sinks:1:Url"] = Upstream.Url.ToString(),
            ["Gateway:Sinks:1:CaCertificatePath"] = certificates.CaPath,
        });
        builder.Configuration.AddInMemoryCollection(_settings);
        builder.AddGatewaySilo();
        builder.AddGatewayListeners();
        builder.AddMqttIngest();
        builder.AddGatewayHealth();
        builder.AddGatewayTelemetry();
        builder.AddGatewayDashboard();
        builder.AddGatewayAdmin();
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Spans));

        _app = builder.Build();
        _app.MapGatewayMetrics();
        _app.MapGatewayDashboard();
        _app.MapTelemetryIngest();
        _app.MapHealthProbes();
        _app.MapGatewayAdmin();
        await _app.StartAsync();

        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(30) };
        Operations = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{operationsPort}"), Timeout = TimeSpan.FromSeconds(30) };
        await Eventually.TrueAsync(async () => (await Operations.GetAsync("/readyz")).IsSuccessStatusCode, "the in-process gateway to be ready");
    }

    public virtual async Task DisposeAsync()
    {
        Http?.Dispose();
        Operations?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (Upstream is not null)
        {
            await Upstream.DisposeAsync();
        }

        _directory.Dispose();
    }

    /// <summary>Spans of one trace.</summary>
    public List<Activity> Trace(ActivityTraceId traceId) => Spans.Snapshot().Where(span => span.TraceId == traceId).ToList();
}

[CollectionDefinition(Name)]
public sealed class InProcessGatewayCollection : ICollectionFixture<InProcessGateway>
{
    public const string Name = "in-process-gateway";
}

/// <summary>A thread-safe collection for the in-memory exporter, which adds from whatever thread ends a span.</summary>
public sealed class SpanCollection : ICollection<Activity>
{
    private readonly List<Activity> _spans = [];

    public int Count
    {
        get
        {
            lock (_spans)
            {
                return _spans.Count;
            }
        }
    }

    public bool IsReadOnly => false;

    public void Add(Activity item)
    {
        lock (_spans)
        {
            _spans.Add(item);
        }
    }

    public List<Activity> Snapshot()
    {
        lock (_spans)
        {
            return [.. _spans];
        }
    }

    public void Clear()
    {
        lock (_spans)
        {
            _spans.Clear();
        }
    }

    public bool Contains(Activity item) => Snapshot().Contains(item);

    public void CopyTo(Activity[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);

    public bool Remove(Activity item)
    {
        lock (_spans)
        {
            return _spans.Remove(item);
        }
    }

    public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
