using System.Net.Http.Headers;
using System.Text;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Operations;

namespace Gateway.Tests.Admin;

[Collection(AdminGatewayCollection.Name)]
public sealed class MessageAdminTests(AdminGateway gateway)
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    [Fact]
    public async Task Delivered_message_lifecycle_shows_each_sink_and_its_trace_id()
    {
        var device = AdminGateway.NewDeviceId("life");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/devices/{device}/telemetry")
        {
            Content = new StringContent("""{"t": 21.5}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", $"00-{TraceId}-00f067aa0ba902b7-01");
        using var response = await gateway.Http.SendAsync(request);
        var messageId = (await response.AcceptedIdsAsync()).Single();
        using var admin = gateway.Admin;

        await Eventually.TrueAsync(async () => (await admin.GetJsonAsync($"/admin/v1/messages/{messageId}")).GetProperty("deliveries").EnumerateArray()
            .All(delivery => delivery.GetProperty("state").GetString() == "Acked"), "both deliveries to be acknowledged");
        var lifecycle = await admin.GetJsonAsync($"/admin/v1/messages/{messageId}");

        Assert.Equal(messageId, lifecycle.GetProperty("messageId").GetString());
        Assert.Equal(1, lifecycle.GetProperty("sequence").GetInt64());
        Assert.Equal($"devices/{device}/telemetry", lifecycle.GetProperty("topic").GetString());
        Assert.Equal(TraceId, lifecycle.GetProperty("traceId").GetString());
        var deliveries = lifecycle.GetProperty("deliveries").EnumerateArray().ToList();
        Assert.Equal(["file", InProcessGateway.UpstreamSink], deliveries.Select(delivery => delivery.GetProperty("sink").GetString()));
        Assert.All(deliveries, delivery =>
        {
            Assert.Equal(["Enqueued", "InFlight", "Acked"], delivery.GetProperty("history").EnumerateArray().Select(step => step.GetProperty("state").GetString()));
            Assert.Equal(0, delivery.GetProperty("attempts").GetInt32());
        });
    }

    [Fact]
    public async Task Wal_statistics_count_deliveries_by_state_with_bytes_oldest_pending_and_database_size()
    {
        var device = AdminGateway.NewDeviceId("walstats");
        using var admin = gateway.Admin;
        var before = await admin.GetJsonAsync("/admin/v1/wal");
        await admin.PostAdminAsync($"/admin/v1/sinks/{InProcessGateway.UpstreamSink}/pause", null);
        try
        {
            var messageId = await gateway.PostAsync(device, """{"payload": "0123456789"}""");
            await Eventually.TrueAsync(() => SinkFiles.Read(gateway.SinkFolder).Any(line => line.MessageId == messageId), "the file sink to deliver");
            // The file sink holds the line before its ack commits.
            await Eventually.TrueAsync(
                async () => (await admin.GetJsonAsync("/admin/v1/wal")).GetProperty("acked").GetInt64() >= 1,
                "the file sink's ack to commit");

            var during = await admin.GetJsonAsync("/admin/v1/wal");
            Assert.True(during.GetProperty("appendedMessagesSinceStart").GetInt64() > before.GetProperty("appendedMessagesSinceStart").GetInt64());
            Assert.True(during.GetProperty("enqueued").GetInt64() >= 1);
            Assert.True(during.GetProperty("pendingBytes").GetInt64() >= 10);
            Assert.True(during.GetProperty("acked").GetInt64() >= 1);
            Assert.True(during.GetProperty("oldestPendingAgeSeconds").GetDouble() >= 0);
            Assert.True(during.GetProperty("oldestPendingReceivedAt").GetDateTimeOffset() <= DateTimeOffset.UtcNow);
            Assert.True(during.GetProperty("databaseBytes").GetInt64() > 0);
            Assert.True(during.GetProperty("transactionsSinceStart").GetInt64() > 0);
        }
        finally
        {
            await admin.PostAdminAsync($"/admin/v1/sinks/{InProcessGateway.UpstreamSink}/resume", null);
        }

        await Eventually.TrueAsync(async () => (await admin.GetJsonAsync("/admin/v1/wal")).GetProperty("pendingRecords").GetInt64() == 0,
            "nothing pending once the sink is resumed");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await admin.GetJsonAsync("/admin/v1/wal")).GetProperty("oldestPendingReceivedAt").ValueKind);
    }
}
