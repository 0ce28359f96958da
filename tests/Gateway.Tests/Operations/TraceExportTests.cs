using System.Net;
using System.Text.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Operations;

/// <summary>The real gateway exporting over OTLP/HTTP to a receiver in the test process, as to a collector.</summary>
public sealed class TraceExportTests
{
    [Fact]
    public async Task A_message_posted_without_traceparent_carries_the_trace_id_its_exported_trace_has_and_metrics_reach_their_own_path()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var data = new TempDirectory();
        await using var gateway = await GatewayProcess.StartAsync(data.Path, new Dictionary<string, string>
        {
            ["Gateway:Telemetry:OtlpEndpoint"] = receiver.Endpoint,
            ["Gateway:Telemetry:OtlpProtocol"] = "HttpProtobuf",
            // The SDK's own settings: export spans and metrics within a second instead of 5 and 60 s.
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        });

        using var response = await gateway.Http.PostJsonAsync("exported-1", """{"v": 1}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var messageId = (await response.AcceptedIdsAsync()).Single();
        await Eventually.TrueAsync(() => SinkFiles.Read(gateway.SinkFolder).Any(line => line.MessageId == messageId), "the message delivered");
        using var admin = gateway.GeneratedTokenAdmin();
        var traceId = JsonDocument.Parse(await admin.GetStringAsync($"/admin/v1/messages/{messageId}")).RootElement.GetProperty("traceId").GetString();

        Assert.NotNull(traceId);
        await Eventually.TrueAsync(
            () => receiver.Spans.Any(span => span.TraceId == traceId && span.Name == "ingest http")
                && receiver.Spans.Any(span => span.TraceId == traceId && span.Name == "deliver file"),
            "the ingest and delivery spans exported under the lifecycle's trace id");
        await Eventually.TrueAsync(() => receiver.MetricExports > 0, "a metrics export at /v1/metrics");
    }
}
