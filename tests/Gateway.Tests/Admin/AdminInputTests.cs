using System.Net.Http.Json;
using System.Text;

namespace Gateway.Tests.Admin;

[Collection(AdminGatewayCollection.Name)]
public sealed class AdminInputTests(AdminGateway gateway)
{
    public static TheoryData<string, string> BadQueries => new()
    {
        { "/admin/v1/devices?limit=0", "limit" },
        { "/admin/v1/devices?limit=1001", "limit" },
        { "/admin/v1/devices?limit=ten", "limit" },
        { "/admin/v1/devices?after=-leading-dash", "after" },
        { "/admin/v1/devices?seenSince=yesterday", "seenSince" },
        { "/admin/v1/devices/-bad-id", "deviceId" },
        { "/admin/v1/devices/bad%20id/disable", "deviceId" },
        { "/admin/v1/sinks?limit=-5", "limit" },
        { "/admin/v1/sinks/upstream/partitions?after=x", "after" },
        { "/admin/v1/sinks/upstream/partitions?limit=100000", "limit" },
        { "/admin/v1/messages/not-a-message-id", "messageId" },
        { "/admin/v1/messages/gateway:device:0", "messageId" },
        { "/admin/v1/dead-letters?after=-1", "after" },
        { "/admin/v1/dead-letters?limit=0", "limit" },
        { "/admin/v1/dead-letters?from=2026-02-01T00:00:00Z&before=2026-01-01T00:00:00Z", "before" },
        { "/admin/v1/dead-letters?from=soon", "from" },
        { "/admin/v1/dead-letters?deviceId=a/b", "deviceId" },
        { "/admin/v1/dead-letters?sink=no-such-sink", "sink" },
        { "/admin/v1/tail", "deviceId" },
        { "/admin/v1/tail?deviceId=a&topic=devices/a/telemetry", "deviceId" },
        { "/admin/v1/tail?topic=devices/%23/telemetry", "topic" },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task Bad_query_is_answered_400_naming_the_field(string path, string field)
    {
        using var admin = gateway.Admin;
        using var response = path.EndsWith("/disable", StringComparison.Ordinal) ? await admin.PostAsync(path, null) : await admin.GetAsync(path);

        await response.AssertInvalidFieldAsync(field);
    }

    public static TheoryData<string, string> BadSelections => new()
    {
        { "{}", "all" },
        { """{"all": true, "sink": "upstream"}""", "all" },
        { """{"messageIds": []}""", "messageIds" },
        { """{"messageIds": ["gateway:dev-1:1", "nope"]}""", "messageIds[1]" },
        { """{"from": "not a time"}""", "from" },
        { """{"from": "2026-02-01T00:00:00Z", "before": "2026-01-01T00:00:00Z"}""", "before" },
        { """{"sink": "no-such-sink"}""", "sink" },
        { """{"deviceId": "-bad"}""", "deviceId" },
        { """[1, 2]""", "body" },
        { "not json", "body" },
    };

    [Theory]
    [MemberData(nameof(BadSelections))]
    public async Task Bad_replay_or_purge_selection_is_answered_400_naming_the_field(string body, string field)
    {
        using var admin = gateway.Admin;
        foreach (var action in new[] { "replay", "purge" })
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await admin.PostAsync($"/admin/v1/dead-letters/{action}", content);
            await response.AssertInvalidFieldAsync(field);
        }
    }

    [Fact]
    public async Task Selection_sent_as_something_other_than_json_is_answered_415()
    {
        using var admin = gateway.Admin;
        using var content = new StringContent("""{"all": true}""", Encoding.UTF8, "text/plain");
        using var response = await admin.PostAsync("/admin/v1/dead-letters/purge", content);

        Assert.Equal(System.Net.HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Replay_without_a_body_is_answered_400_naming_the_body()
    {
        using var admin = gateway.Admin;
        using var response = await admin.PostAsync("/admin/v1/dead-letters/replay", null);

        await response.AssertInvalidFieldAsync("body");
    }

    [Fact]
    public async Task Unknown_device_message_and_sink_are_answered_404()
    {
        using var admin = gateway.Admin;
        using var device = await admin.GetAsync($"/admin/v1/devices/{AdminGateway.NewDeviceId("never")}");
        using var message = await admin.GetAsync("/admin/v1/messages/gateway:never-seen:1");
        using var sink = await admin.PostAsJsonAsync("/admin/v1/sinks/no-such-sink/pause", new { });

        foreach (var response in new[] { device, message, sink })
        {
            Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }
}
