using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Gateway.Tests.Admin;

[Collection(AdminGatewayCollection.Name)]
public sealed class AdminAuthenticationTests(AdminGateway gateway)
{
    public static TheoryData<string> Endpoints => new()
    {
        "/admin/v1/devices",
        "/admin/v1/devices/some-device",
        "/admin/v1/sinks",
        "/admin/v1/sinks/upstream/partitions",
        "/admin/v1/messages/gateway:some-device:1",
        "/admin/v1/wal",
        "/admin/v1/dead-letters",
        "/admin/v1/tail?deviceId=some-device",
        "/admin/v1/openapi.json",
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Request_without_a_token_is_refused_401_as_problem_json(string path)
    {
        using var response = await gateway.Operations.GetAsync(path);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("unauthorized", problem.GetProperty("reason").GetString());
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Request_with_a_wrong_token_is_refused_403_as_problem_json(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminGateway.Token + "x");
        using var response = await gateway.Operations.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("forbidden", problem.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Mutations_without_a_token_change_nothing()
    {
        var device = AdminGateway.NewDeviceId("auth");
        await gateway.PostAsync(device);

        using var refused = await gateway.Operations.PostAsync($"/admin/v1/devices/{device}/disable", null);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using var admin = gateway.Admin;
        Assert.False((await admin.GetJsonAsync($"/admin/v1/devices/{device}")).GetProperty("disabled").GetBoolean());
    }

    [Fact]
    public async Task Admin_api_is_not_served_on_the_ingest_port()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/v1/wal");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminGateway.Token);
        using var response = await gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
