using System.Diagnostics;
using System.Net;
using System.Text;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Mqtt;

namespace Gateway.Tests.Operations;

[Collection(InProcessGatewayCollection.Name)]
public sealed class TracingTests(InProcessGateway gateway)
{
    [Fact]
    public async Task One_trace_holds_ingest_grain_commit_and_delivery_under_the_devices_traceparent()
    {
        var deviceTrace = ActivityTraceId.CreateRandom();
        var devicePublish = ActivitySpanId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/devices/traced-1/telemetry")
        {
            Content = new StringContent("""{"temperature": 21.5}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", $"00-{deviceTrace}-{devicePublish}-01");
        using var response = await gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        string[] expected = ["ingest http", "device accept", "wal append", "deliver file", "send file", "deliver upstream", "send upstream"];
        await Eventually.TrueAsync(
            () => expected.All(name => gateway.Trace(deviceTrace).Any(span => span.DisplayName == name)),
            "ingest, grain, commit and delivery spans in the device's trace");

        var spans = gateway.Trace(deviceTrace);
        var ids = spans.Select(span => span.SpanId).ToHashSet();
        // Every span hangs off the device's publish or another span of the trace: one tree, rooted at the device.
        Assert.All(spans, span => Assert.True(span.ParentSpanId == devicePublish || ids.Contains(span.ParentSpanId),
            $"span '{span.DisplayName}' has parent {span.ParentSpanId}, outside the trace"));
        Assert.Contains(spans, span => span.ParentSpanId == devicePublish);
        // Orleans' own grain-call spans are in it too (activity propagation through the grain call).
        Assert.Contains(spans, span => span.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal));

        var ingest = spans.Single(span => span.DisplayName == "ingest http");
        var deliver = spans.Single(span => span.DisplayName == "deliver file");
        Assert.Equal(ingest.SpanId, deliver.ParentSpanId);
        var append = spans.Single(span => span.DisplayName == "wal append");
        Assert.True((int)append.GetTagItem("gateway.wal.commit.operations")! >= 1);
    }

    [Fact]
    public async Task The_upstream_request_and_the_sink_record_carry_a_traceparent_of_the_devices_trace()
    {
        var deviceTrace = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/devices/traced-2/telemetry")
        {
            Content = new StringContent("""{"humidity": 40}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", $"00-{deviceTrace}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var messageId = (await response.AcceptedIdsAsync()).Single();

        ReceivedBatch? upstream = null;
        await Eventually.TrueAsync(
            () => (upstream = gateway.Upstream.Requests.FirstOrDefault(r => r.Records.Any(record => record.GetProperty("messageId").GetString() == messageId))) is not null,
            "the upstream request holding the message");
        Assert.NotNull(upstream!.TraceParent);
        Assert.Equal(deviceTrace.ToHexString(), upstream.TraceParent!.Split('-')[1]);

        // The record itself names the gateway's ingest span of the same trace, for receivers that batch.
        SinkLine? line = null;
        await Eventually.TrueAsync(() => (line = SinkFiles.Read(gateway.SinkFolder).FirstOrDefault(l => l.MessageId == messageId)) is not null,
            "the file sink's line");
        var stored = line!.Line.GetProperty("traceparent").GetString()!;
        Assert.Equal(deviceTrace.ToHexString(), stored.Split('-')[1]);
        var ingest = gateway.Trace(deviceTrace).Single(span => span.DisplayName == "ingest http");
        Assert.Equal(ingest.SpanId.ToHexString(), stored.Split('-')[2]);
    }

    [Fact]
    public async Task A_message_without_traceparent_starts_a_trace_that_its_delivery_continues()
    {
        using var response = await gateway.Http.PostJsonAsync("untraced-1", """{"level": 3}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var messageId = (await response.AcceptedIdsAsync()).Single();

        SinkLine? line = null;
        await Eventually.TrueAsync(() => (line = SinkFiles.Read(gateway.SinkFolder).FirstOrDefault(l => l.MessageId == messageId)) is not null,
            "the file sink's line");
        var traceId = ActivityTraceId.CreateFromString(line!.Line.GetProperty("traceparent").GetString()!.Split('-')[1]);
        await Eventually.TrueAsync(
            () => gateway.Trace(traceId).Any(span => span.DisplayName == "deliver file")
                && gateway.Trace(traceId).Any(span => span.DisplayName == "ingest http"),
            "ingest and delivery in the trace the gateway started");
    }

    [Fact]
    public async Task An_mqtt_5_traceparent_user_property_parents_the_ingest_span_and_the_delivery_continues_its_trace()
    {
        var deviceTrace = ActivityTraceId.CreateRandom();
        var devicePublish = ActivitySpanId.CreateRandom();
        var (client, connected) = await MqttTestClient.ConnectAsync(gateway.MqttPort);
        using (client)
        {
            Assert.Equal(MQTTnet.MqttClientConnectResultCode.Success, connected.ResultCode);
            var published = await client.PublishAsync("devices/traced-mqtt-1/telemetry", """{"rpm": 1200}""",
                MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce, ("traceparent", $"00-{deviceTrace}-{devicePublish}-01"));
            Assert.Equal(MQTTnet.MqttClientPublishReasonCode.Success, published.ReasonCode);
        }

        await Eventually.TrueAsync(
            () => gateway.Trace(deviceTrace).Any(span => span.DisplayName == "ingest mqtt")
                && gateway.Trace(deviceTrace).Any(span => span.DisplayName == "deliver file"),
            "the MQTT ingest span and the delivery in the device's trace");
        var ingest = gateway.Trace(deviceTrace).Single(span => span.DisplayName == "ingest mqtt");
        Assert.Equal(devicePublish, ingest.ParentSpanId);
        Assert.Equal(ingest.SpanId, gateway.Trace(deviceTrace).Single(span => span.DisplayName == "deliver file").ParentSpanId);
    }
}
