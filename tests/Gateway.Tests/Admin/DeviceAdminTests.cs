using System.Net;
using System.Text.Json;
using Gateway.Devices;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;
using Orleans.Runtime;

namespace Gateway.Tests.Admin;

[Collection(AdminGatewayCollection.Name)]
public sealed class DeviceAdminTests(AdminGateway gateway)
{
    [Fact]
    public async Task Device_shows_its_grain_state_and_wal_counts()
    {
        var device = AdminGateway.NewDeviceId("state");
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var messageId = await gateway.PostAsync(device);
        await gateway.PostAsync(device);
        using var admin = gateway.Admin;

        var view = await admin.GetJsonAsync($"/admin/v1/devices/{device}");

        Assert.Equal(device, view.GetProperty("deviceId").GetString());
        Assert.Equal(2, view.GetProperty("acceptedCount").GetInt64());
        Assert.Equal(0, view.GetProperty("refusedCount").GetInt64());
        Assert.Equal(2, view.GetProperty("lastSequence").GetInt64());
        Assert.InRange(view.GetProperty("firstSeen").GetDateTimeOffset(), before, DateTimeOffset.UtcNow);
        Assert.True(view.GetProperty("lastSeen").GetDateTimeOffset() >= view.GetProperty("firstSeen").GetDateTimeOffset());
        Assert.InRange(view.GetProperty("partition").GetInt32(), 0, 7);
        Assert.False(view.GetProperty("disabled").GetBoolean());
        Assert.EndsWith($":{device}:1", messageId, StringComparison.Ordinal);

        // Two sinks take each message: four deliveries buffered until sent, then none.
        await Eventually.TrueAsync(async () => (await admin.GetJsonAsync($"/admin/v1/devices/{device}")).GetProperty("bufferedCount").GetInt64() == 0,
            "the device's deliveries to be sent");
        Assert.Equal(0, (await admin.GetJsonAsync($"/admin/v1/devices/{device}")).GetProperty("deadCount").GetInt64());
    }

    [Fact]
    public async Task Device_buffered_and_dead_counts_follow_the_wal()
    {
        var device = AdminGateway.NewDeviceId("counts");
        gateway.FailUpstreamFor(device);
        try
        {
            await gateway.PostAsync(device);
            using var admin = gateway.Admin;
            await Eventually.TrueAsync(async () => (await admin.GetJsonAsync($"/admin/v1/devices/{device}")).GetProperty("deadCount").GetInt64() == 1,
                "the upstream delivery to go Dead");
            Assert.Equal(0, (await admin.GetJsonAsync($"/admin/v1/devices/{device}")).GetProperty("bufferedCount").GetInt64());
        }
        finally
        {
            gateway.HealUpstream();
        }
    }

    [Fact]
    public async Task Device_list_pages_by_id_and_filters_by_last_seen()
    {
        var prefix = AdminGateway.NewDeviceId("list");
        var devices = new[] { prefix + "-a", prefix + "-b", prefix + "-c" };
        foreach (var device in devices)
        {
            await gateway.PostAsync(device);
        }

        using var admin = gateway.Admin;
        var after = prefix + "-";
        await Eventually.TrueAsync(async () => Ids(await admin.GetJsonAsync($"/admin/v1/devices?after={after}&limit=3")).SequenceEqual(devices),
            "the devices to be in the directory");

        var first = await admin.GetJsonAsync($"/admin/v1/devices?after={after}&limit=2");
        Assert.Equal(devices[..2], Ids(first));
        var next = first.GetProperty("next").GetString();
        Assert.Equal(devices[1], next);
        var second = await admin.GetJsonAsync($"/admin/v1/devices?after={next}&limit=2");
        Assert.Equal(devices[2], Ids(second)[0]);

        var recent = await admin.GetJsonAsync($"/admin/v1/devices?after={after}&limit=3&seenSince={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O"))}");
        Assert.Equal(devices, Ids(recent));
        var future = await admin.GetJsonAsync($"/admin/v1/devices?after={after}&limit=3&seenSince={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"))}");
        Assert.DoesNotContain(Ids(future), id => id.StartsWith(prefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Credentials_are_created_once_rotated_and_revoked_and_the_secret_is_shown_once()
    {
        var device = AdminGateway.NewDeviceId("creds");
        using var admin = gateway.Admin;
        var credentials = gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<IDeviceCredentialsGrain>(device);

        var created = await admin.PostAdminAsync($"/admin/v1/devices/{device}/credentials", null, HttpStatusCode.Created);
        var secret = created.GetProperty("secret").GetString()!;
        Assert.True(await credentials.VerifyAsync(secret));
        var again = await admin.PostAdminAsync($"/admin/v1/devices/{device}/credentials", null, HttpStatusCode.Conflict);
        Assert.Equal("credentials-exist", again.GetProperty("reason").GetString());
        Assert.DoesNotContain(secret, again.ToString(), StringComparison.Ordinal);
        var view = await admin.GetJsonAsync($"/admin/v1/devices/{device}");
        Assert.True(view.GetProperty("hasCredentials").GetBoolean());
        Assert.DoesNotContain(secret, view.ToString(), StringComparison.Ordinal);

        var rotated = (await admin.PostAdminAsync($"/admin/v1/devices/{device}/credentials/rotate", null)).GetProperty("secret").GetString()!;
        Assert.NotEqual(secret, rotated);
        Assert.False(await credentials.VerifyAsync(secret));
        Assert.True(await credentials.VerifyAsync(rotated));

        using var revoked = await admin.DeleteAsync($"/admin/v1/devices/{device}/credentials");
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.False(await credentials.VerifyAsync(rotated));
        Assert.False(await credentials.IsProvisionedAsync());

        // A provisioned device is in the directory before it ever sends anything.
        Assert.Contains(device, Ids(await admin.GetJsonAsync($"/admin/v1/devices?after={device[..^1]}&limit=5")));
    }

    [Fact]
    public async Task Disabled_device_is_refused_over_http_and_mqtt_until_enabled()
    {
        var device = AdminGateway.NewDeviceId("disabled");
        using var admin = gateway.Admin;
        await gateway.PostAsync(device);

        var disabled = await admin.PostAdminAsync($"/admin/v1/devices/{device}/disable", null);
        Assert.True(disabled.GetProperty("disabled").GetBoolean());

        using var http = await gateway.Http.PostJsonAsync(device, """{"value": 2}""");
        Assert.Equal(HttpStatusCode.Forbidden, http.StatusCode);
        Assert.Equal("application/problem+json", http.Content.Headers.ContentType?.MediaType);
        Assert.Equal("device-disabled", JsonDocument.Parse(await http.Content.ReadAsStringAsync()).RootElement.GetProperty("reason").GetString());

        var (client, _) = await MqttTestClient.ConnectAsync(gateway.MqttPort, clientId: device);
        using (client)
        {
            var publish = await client.PublishAsync($"devices/{device}/telemetry", """{"value": 3}""");
            Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, publish.ReasonCode);

            var enabled = await admin.PostAdminAsync($"/admin/v1/devices/{device}/enable", null);
            Assert.False(enabled.GetProperty("disabled").GetBoolean());
            Assert.Equal(MqttClientPublishReasonCode.Success, (await client.PublishAsync($"devices/{device}/telemetry", """{"value": 4}""")).ReasonCode);
        }

        var view = await admin.GetJsonAsync($"/admin/v1/devices/{device}");
        Assert.Equal(2, view.GetProperty("acceptedCount").GetInt64());
        Assert.Equal(2, view.GetProperty("refusedCount").GetInt64());
    }

    [Fact]
    public async Task Disabled_flag_is_persisted_across_grain_deactivation()
    {
        var device = AdminGateway.NewDeviceId("persisted");
        using var admin = gateway.Admin;
        await gateway.PostAsync(device);
        await admin.PostAdminAsync($"/admin/v1/devices/{device}/disable", null);

        var grains = gateway.Services.GetRequiredService<IGrainFactory>();
        await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        Assert.True((await admin.GetJsonAsync($"/admin/v1/devices/{device}")).GetProperty("disabled").GetBoolean());
        using var refused = await gateway.Http.PostJsonAsync(device, """{"value": 2}""");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        await admin.PostAdminAsync($"/admin/v1/devices/{device}/enable", null);
    }

    private static List<string> Ids(JsonElement page) =>
        page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("deviceId").GetString()!).ToList();
}
