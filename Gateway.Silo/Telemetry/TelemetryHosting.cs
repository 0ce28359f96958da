using Gateway.Ingest.Mqtt;
using Gateway.Ingest.Http;
using Gateway.Silo.Hosting;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Silo.Telemetry;

/// <summary>OpenTelemetry traces and metrics, the Prometheus scrape endpoint, and trace ids in the logs.</summary>
public static class TelemetryHosting
{
    /// <summary>Path of the Prometheus scrape endpoint on the operations port.</summary>
    public const string MetricsPath = "/metrics";

    // Orleans' own sources and meter (Orleans.Diagnostics.ActivitySources, OrleansInstruments).
    private static readonly string[] OrleansSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "Microsoft.Orleans.Storage"];
    private const string OrleansMeter = "Microsoft.Orleans";

    // .NET's own meter: process CPU time and memory, GC and thread pool (dotnet_process_*, dotnet_gc_*, ...).
    private const string RuntimeMeter = "System.Runtime";

    /// <summary>Adds tracing (when configured), metrics with the Prometheus exporter, and log correlation.</summary>
    public static WebApplicationBuilder AddGatewayTelemetry(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>();
        var options = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var gatewayId = builder.Configuration["Gateway:GatewayId"] ?? "gateway";
        var otlp = string.IsNullOrWhiteSpace(options.OtlpEndpoint) ? null : options.OtlpEndpoint;

        // Every log line carries the trace and span of the work that wrote it.
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName, serviceInstanceId: gatewayId))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(GatewayTelemetry.Name, MqttIngestMetrics.MeterName, OrleansMeter, RuntimeMeter)
                    .AddView(PrometheusView)
                    .AddAspNetCoreInstrumentation()
                    .AddPrometheusExporter();
                if (otlp is not null)
                {
                    metrics.AddOtlpExporter(exporter => Configure(exporter, otlp, options, "v1/metrics"));
                }
            });

        if (options.TracingEnabled)
        {
            // Orleans copies the trace context into grain calls only with propagation on.
            builder.UseOrleans(silo => silo.AddActivityPropagation());
            telemetry.WithTracing(tracing =>
            {
                tracing.AddSource(GatewayTelemetry.Name)
                    .AddSource(OrleansSources)
                    .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.TraceSamplingRatio)))
                    // Only ingest requests: probes and scrapes would bury the messages' traces.
                    .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = IsIngestRequest);
                if (otlp is not null)
                {
                    tracing.AddOtlpExporter(exporter => Configure(exporter, otlp, options, "v1/traces"));
                }

                if (options.ConsoleExporter)
                {
                    tracing.AddConsoleExporter();
                }
            });
        }

        return builder;
    }

    /// <summary>Serves the Prometheus text format at <c>/metrics</c>, on the operations port only.</summary>
    public static WebApplication MapGatewayMetrics(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var port = app.Services.GetRequiredService<IOptions<OperationsOptions>>().Value.Port;
        app.UseOpenTelemetryPrometheusScrapingEndpoint(context =>
            context.Connection.LocalPort == port && context.Request.Path == MetricsPath);
        return app;
    }

    /// <summary>
    /// Keeps <c>/metrics</c> clean for <c>promtool check metrics</c>: three of .NET's runtime gauges are left out (below);
    /// Orleans' instruments in milliseconds or
    /// megabytes are left out (Prometheus wants base units, and a view cannot rescale values; the dashboard
    /// shows grain call and storage latency), and the others get a help text where Orleans gives none.
    /// </summary>
    private static MetricStreamConfiguration? PrometheusView(System.Diagnostics.Metrics.Instrument instrument)
    {
        // .NET's dotnet.process.cpu.count, dotnet.assembly.count and dotnet.timer.count are gauges whose Prometheus
        // names end in _count, which promtool reserves for histograms; none of them is worth an alert.
        if (instrument.Meter.Name == RuntimeMeter)
        {
            return instrument.Name.EndsWith(".count", StringComparison.Ordinal) ? MetricStreamConfiguration.Drop : null;
        }

        if (instrument.Meter.Name != OrleansMeter)
        {
            return null;
        }

        if (instrument.Unit is "ms" or "MB")
        {
            return MetricStreamConfiguration.Drop;
        }

        // The live tail's stream queues and caches tag their series with camelCase keys (queue and block pool ids),
        // which Prometheus rejects: kept as totals over the gateway's few tail queues, without those tags.
        if (instrument.Name.StartsWith("orleans-streams", StringComparison.Ordinal))
        {
            return new MetricStreamConfiguration
            {
                TagKeys = [],
                Description = string.IsNullOrEmpty(instrument.Description) ? $"Orleans runtime instrument {instrument.Name}." : instrument.Description,
            };
        }

        return string.IsNullOrEmpty(instrument.Description)
            ? new MetricStreamConfiguration { Description = $"Orleans runtime instrument {instrument.Name}." }
            : null;
    }

    private static bool IsIngestRequest(HttpContext context) =>
        context.Connection.LocalPort == context.RequestServices.GetRequiredService<IOptions<HttpIngestOptions>>().Value.Port;

    /// <summary>
    /// Points an exporter at the collector. Over HTTP the configured endpoint is the collector's base address and
    /// each signal has its own path (OTLP/HTTP: <c>/v1/traces</c>, <c>/v1/metrics</c>): the exporter uses an endpoint
    /// set in code as it is, so the path is added here, as the exporter itself does for OTEL_EXPORTER_OTLP_ENDPOINT.
    /// </summary>
    private static void Configure(OpenTelemetry.Exporter.OtlpExporterOptions exporter, string endpoint, TelemetryOptions options, string signalPath)
    {
        exporter.Protocol = options.OtlpProtocol;
        exporter.Endpoint = options.OtlpProtocol == OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf
            ? new Uri(new Uri(endpoint.EndsWith('/') ? endpoint : endpoint + "/"), signalPath)
            : new Uri(endpoint);
    }
}
