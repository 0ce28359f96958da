using System.ComponentModel.DataAnnotations;
using OpenTelemetry.Exporter;

namespace Gateway.Silo.Telemetry;

/// <summary>Settings under <c>Gateway:Telemetry</c>: traces and where they and the metrics are exported.</summary>
public sealed class TelemetryOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gateway:Telemetry";

    /// <summary>
    /// Record spans even with no exporter configured (for an exporter added in code, as the tests do). Tracing
    /// is also on whenever <see cref="OtlpEndpoint"/> or <see cref="ConsoleExporter"/> is set.
    /// </summary>
    public bool Tracing { get; set; }

    /// <summary>OTLP collector to export traces and metrics to (e.g. <c>http://collector:4317</c>); none when empty.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>OTLP transport: <c>Grpc</c> (port 4317) or <c>HttpProtobuf</c> (port 4318).</summary>
    [EnumDataType(typeof(OtlpExportProtocol), ErrorMessage = "Gateway:Telemetry:OtlpProtocol must be Grpc or HttpProtobuf.")]
    public OtlpExportProtocol OtlpProtocol { get; set; } = OtlpExportProtocol.Grpc;

    /// <summary>Write finished spans to the console (development).</summary>
    public bool ConsoleExporter { get; set; }

    /// <summary>Share of new traces recorded; a device's sampling decision (traceparent flags) is always followed.</summary>
    [Range(0.0, 1.0, ErrorMessage = "Gateway:Telemetry:TraceSamplingRatio must be between 0 and 1.")]
    public double TraceSamplingRatio { get; set; } = 1.0;

    /// <summary>The <c>service.name</c> resource attribute.</summary>
    [Required(ErrorMessage = "Gateway:Telemetry:ServiceName must not be empty.")]
    public string ServiceName { get; set; } = "orleans-gateway";

    /// <summary>True when spans are recorded at all.</summary>
    public bool TracingEnabled => Tracing || ConsoleExporter || !string.IsNullOrWhiteSpace(OtlpEndpoint);
}

/// <summary>Checks <see cref="TelemetryOptions.OtlpEndpoint"/>, which data annotations cannot express.</summary>
public sealed class TelemetryOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<TelemetryOptions>
{
    /// <inheritdoc />
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint)
            && !(Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            return Microsoft.Extensions.Options.ValidateOptionsResult.Fail(
                $"Gateway:Telemetry:OtlpEndpoint must be an absolute http:// or https:// URL; '{options.OtlpEndpoint}' is not.");
        }

        return Microsoft.Extensions.Options.ValidateOptionsResult.Success;
    }
}
