using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Operations;

namespace Gateway.Tests.Admin;

[Collection(AdminGatewayCollection.Name)]
public sealed class DeadLetterAdminTests(AdminGateway gateway)
{
    private const string Sink = InProcessGateway.UpstreamSink;

    [Fact]
    public async Task Dead_letters_replayed_through_the_api_are_delivered_once_more_and_the_lifecycle_shows_the_whole_history()
    {
        var device = AdminGateway.NewDeviceId("replay");
        using var admin = gateway.Admin;
        gateway.FailUpstreamFor(device);
        List<string> messageIds;
        try
        {
            messageIds = [await gateway.PostAsync(device), await gateway.PostAsync(device), await gateway.PostAsync(device)];
            await Eventually.TrueAsync(async () => Items(await admin.GetJsonAsync($"/admin/v1/dead-letters?deviceId={device}")).Count == 3,
                "the three messages to go Dead against the failing sink");
        }
        finally
        {
            gateway.HealUpstream();
        }

        var dead = Items(await admin.GetJsonAsync($"/admin/v1/dead-letters?deviceId={device}&sink={Sink}"));
        Assert.Equal(messageIds, dead.Select(letter => letter.GetProperty("messageId").GetString()));
        Assert.All(dead, letter =>
        {
            Assert.Equal(2, letter.GetProperty("attempts").GetInt32());
            Assert.Contains("503", letter.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        });
        Assert.All(messageIds, id => Assert.Equal(0, gateway.UpstreamAcceptedCount(id)));

        var replayed = await admin.PostAdminAsync("/admin/v1/dead-letters/replay", new { deviceId = device, sink = Sink });
        Assert.Equal(3, replayed.GetProperty("replayed").GetInt32());

        await Eventually.TrueAsync(() => messageIds.All(id => gateway.UpstreamAcceptedCount(id) >= 1), "every replayed message to be delivered");
        Assert.All(messageIds, id => Assert.Equal(1, gateway.UpstreamAcceptedCount(id)));
        Assert.Empty(Items(await admin.GetJsonAsync($"/admin/v1/dead-letters?deviceId={device}")));

        // Upstream has the message before the gateway has committed its ack: wait for the ack, not for upstream.
        JsonElement lifecycle = default, upstream = default;
        await Eventually.TrueAsync(async () =>
        {
            lifecycle = await admin.GetJsonAsync($"/admin/v1/messages/{messageIds[0]}");
            upstream = lifecycle.GetProperty("deliveries").EnumerateArray().Single(delivery => delivery.GetProperty("sink").GetString() == Sink);
            return upstream.GetProperty("state").GetString() == "Acked";
        }, "the replayed delivery to be Acked in the WAL");
        Assert.Equal(device, lifecycle.GetProperty("deviceId").GetString());
        var history = upstream.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(
            ["Enqueued", "InFlight", "Enqueued", "InFlight", "Dead", "Enqueued", "InFlight", "Acked"],
            history.Select(step => step.GetProperty("state").GetString()));
        Assert.Equal([0, 0, 1, 1, 2, 0, 0, 0], history.Select(step => step.GetProperty("attempts").GetInt32()));
        Assert.Contains("503", history[2].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("503", history[4].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("Dead", history[5].GetProperty("from").GetString());
        var times = history.Select(step => step.GetProperty("at").GetDateTimeOffset()).ToList();
        Assert.Equal(times.Order(), times);
    }

    [Fact]
    public async Task Dead_letters_are_listed_with_filters_and_paged()
    {
        var device = AdminGateway.NewDeviceId("listdead");
        using var admin = gateway.Admin;
        gateway.FailUpstreamFor(device);
        try
        {
            await gateway.PostAsync(device);
            await gateway.PostAsync(device);
            await Eventually.TrueAsync(async () => Items(await admin.GetJsonAsync($"/admin/v1/dead-letters?deviceId={device}")).Count == 2, "two dead letters");
        }
        finally
        {
            gateway.HealUpstream();
        }

        var first = await admin.GetJsonAsync($"/admin/v1/dead-letters?deviceId={device}&limit=1");
        Assert.Single(Items(first));
        var second = await admin.GetJsonAsync($"/admin/v1/dead-letters?deviceId={device}&limit=1&after={first.GetProperty("next").GetString()}");
        Assert.NotEqual(Items(first)[0].GetProperty("messageId").GetString(), Items(second)[0].GetProperty("messageId").GetString());

        var hourAgo = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O"));
        var hourAhead = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"));
        Assert.Equal(2, Items(await admin.GetJsonAsync($"/admin/v1/dead-letters?deviceId={device}&from={hourAgo}&before={hourAhead}")).Count);
        Assert.Empty(Items(await admin.GetJsonAsync($"/admin/v1/dead-letters?deviceId={device}&from={hourAhead}")));
        Assert.Empty(Items(await admin.GetJsonAsync($"/admin/v1/dead-letters?deviceId={device}&sink=file")));
    }

    [Fact]
    public async Task Purge_by_message_ids_deletes_only_those_and_reports_how_many()
    {
        var device = AdminGateway.NewDeviceId("purge");
        using var admin = gateway.Admin;
        gateway.FailUpstreamFor(device);
        string kept, purged;
        try
        {
            purged = await gateway.PostAsync(device);
            kept = await gateway.PostAsync(device);
            await Eventually.TrueAsync(async () => Items(await admin.GetJsonAsync($"/admin/v1/dead-letters?deviceId={device}")).Count == 2, "two dead letters");
        }
        finally
        {
            gateway.HealUpstream();
        }

        var result = await admin.PostAdminAsync("/admin/v1/dead-letters/purge", new { messageIds = new[] { purged } });
        Assert.Equal(1, result.GetProperty("purged").GetInt32());

        var left = Items(await admin.GetJsonAsync($"/admin/v1/dead-letters?deviceId={device}"));
        Assert.Equal([kept], left.Select(letter => letter.GetProperty("messageId").GetString()));
        var again = await admin.PostAdminAsync("/admin/v1/dead-letters/purge", new { messageIds = new[] { purged } });
        Assert.Equal(0, again.GetProperty("purged").GetInt32());
        Assert.Equal(1, (await admin.PostAdminAsync("/admin/v1/dead-letters/purge", new { deviceId = device })).GetProperty("purged").GetInt32());
    }

    private static List<JsonElement> Items(JsonElement page) => page.GetProperty("items").EnumerateArray().ToList();
}
