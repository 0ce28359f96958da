using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Operations;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace Gateway.Tests.Admin;

[Collection(AdminGatewayCollection.Name)]
public sealed class SinkAdminTests(AdminGateway gateway)
{
    private const string Sink = InProcessGateway.UpstreamSink;

    [Fact]
    public async Task Sinks_are_listed_with_pause_and_circuit_state_and_paged()
    {
        using var admin = gateway.Admin;

        var all = await admin.GetJsonAsync("/admin/v1/sinks");
        var names = all.GetProperty("items").EnumerateArray().Select(sink => sink.GetProperty("name").GetString()).ToList();
        Assert.Equal(["file", Sink], names);
        Assert.All(all.GetProperty("items").EnumerateArray(), sink =>
        {
            Assert.False(sink.GetProperty("paused").GetBoolean());
            Assert.Equal("Closed", sink.GetProperty("circuit").GetString());
        });

        var first = await admin.GetJsonAsync("/admin/v1/sinks?limit=1");
        Assert.Equal("file", first.GetProperty("next").GetString());
        var second = await admin.GetJsonAsync("/admin/v1/sinks?limit=1&after=file");
        Assert.Equal(Sink, second.GetProperty("items")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Paused_sink_sends_nothing_loses_nothing_and_resume_delivers_what_waited()
    {
        var device = AdminGateway.NewDeviceId("paused");
        using var admin = gateway.Admin;
        var paused = await admin.PostAdminAsync($"/admin/v1/sinks/{Sink}/pause", null);
        Assert.True(paused.GetProperty("paused").GetBoolean());
        try
        {
            var messageId = await gateway.PostAsync(device);
            var partition = (await admin.GetJsonAsync($"/admin/v1/devices/{device}")).GetProperty("partition").GetInt32();

            // The file sink is not paused: once it has the message, the upstream partition has had its chance too.
            await Eventually.TrueAsync(() => SinkFiles.Read(gateway.SinkFolder).Any(line => line.MessageId == messageId), "the file sink to deliver");
            var view = await PartitionAsync(admin, partition);
            Assert.True(view.GetProperty("paused").GetBoolean());
            Assert.True(view.GetProperty("enqueued").GetInt64() >= 1);
            Assert.Equal(0, view.GetProperty("inFlight").GetInt64());
            Assert.True(view.GetProperty("oldestPendingAgeSeconds").GetDouble() >= 0);
            Assert.Equal(0, gateway.UpstreamAcceptedCount(messageId));
            var lifecycle = await admin.GetJsonAsync($"/admin/v1/messages/{messageId}");
            var upstream = lifecycle.GetProperty("deliveries").EnumerateArray().Single(d => d.GetProperty("sink").GetString() == Sink);
            Assert.Equal("Enqueued", upstream.GetProperty("state").GetString());
            Assert.Single(upstream.GetProperty("history").EnumerateArray());

            // A pause is stored: it holds when the grains are collected and come back.
            await gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
            Assert.True((await PartitionAsync(admin, partition)).GetProperty("paused").GetBoolean());
            Assert.Equal(0, gateway.UpstreamAcceptedCount(messageId));

            var resumed = await admin.PostAdminAsync($"/admin/v1/sinks/{Sink}/resume", null);
            Assert.False(resumed.GetProperty("paused").GetBoolean());
            await Eventually.TrueAsync(() => gateway.UpstreamAcceptedCount(messageId) == 1, "the waiting message to be sent after resume");
            Assert.False((await PartitionAsync(admin, partition)).GetProperty("paused").GetBoolean());
        }
        finally
        {
            await admin.PostAdminAsync($"/admin/v1/sinks/{Sink}/resume", null);
        }
    }

    [Fact]
    public async Task Partitions_show_depth_attempts_next_attempt_and_circuit_and_are_paged()
    {
        using var admin = gateway.Admin;

        var page = await admin.GetJsonAsync($"/admin/v1/sinks/{Sink}/partitions?limit=3");
        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], items.Select(item => item.GetProperty("partition").GetInt32()));
        Assert.Equal("2", page.GetProperty("next").GetString());
        foreach (var property in new[] { "enqueued", "inFlight", "dead", "maxAttempts", "circuit", "paused", "consecutiveFailures", "nextAttemptAt", "oldestPendingAgeSeconds" })
        {
            Assert.True(items[0].TryGetProperty(property, out _), $"partition view lacks {property}");
        }

        var rest = await admin.GetJsonAsync($"/admin/v1/sinks/{Sink}/partitions?after=2");
        Assert.Equal([3, 4, 5, 6, 7], rest.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("partition").GetInt32()));
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("next").ValueKind);
    }

    private static async Task<JsonElement> PartitionAsync(HttpClient admin, int partition) =>
        (await admin.GetJsonAsync($"/admin/v1/sinks/{Sink}/partitions?limit=1" + (partition > 0 ? $"&after={partition - 1}" : ""))).GetProperty("items")[0];
}
