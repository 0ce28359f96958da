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
                metrics.AddMeter(GatewayTelemetry.Name, MqttIngestMetrics.MeterName, OrleansMeter)
                    .AddView(OrleansView)
                    .AddAspNetCoreInstrumentation()
                    .AddPrometheusExporter();
                if (otlp is not null)
                {
                    metrics.AddOtlpExporter(exporter => Configure(exporter, otlp, options));
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
                    tracing.AddOtlpExporter(exporter => Configure(exporter, otlp, options));
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
    /// Keeps <c>/metrics</c> clean for <c>promtool check metrics</c>: Orleans' instruments in milliseconds or
    /// megabytes are left out (Prometheus wants base units, and a view cannot rescale values; the dashboard
    /// shows grain call and storage latency), and the others get a help text where Orleans gives none.
    /// </summary>
    private static MetricStreamConfiguration? OrleansView(System.Diagnostics.Metrics.Instrument instrument)
    {
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

    private static void Configure(OpenTelemetry.Exporter.OtlpExporterOptions exporter, string endpoint, TelemetryOptions options)
    {
        exporter.Endpoint = new Uri(endpoint);
        exporter.Protocol = options.OtlpProtocol;
    }
}
