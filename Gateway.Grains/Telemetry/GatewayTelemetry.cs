using System.Diagnostics;

namespace Gateway.Telemetry;

/// <summary>
/// The gateway's trace source and the W3C trace context helpers the grains and sinks share. The ingest
/// adapters (Gateway.Ingest) own a source of the same name, so one <c>AddSource("Gateway")</c> enables both.
/// </summary>
public static class GatewayTelemetry
{
    /// <summary>Name of the gateway's <see cref="ActivitySource"/> and <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string Name = "Gateway";

    /// <summary>Spans of the device grain, the WAL and delivery.</summary>
    public static readonly ActivitySource Source = new(Name);

    /// <summary>The context a W3C <c>traceparent</c> names, or null when it is absent or malformed.</summary>
    public static ActivityContext? ParseTraceParent(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var context) ? context : null;

    /// <summary>The W3C <c>traceparent</c> of <paramref name="context"/>.</summary>
    public static string FormatTraceParent(in ActivityContext context) =>
        $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-{((context.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? "01" : "00")}";
}
