using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Admin;

[Collection(AdminGatewayCollection.Name)]
public sealed partial class AdminReadOnlyTokenTests(AdminGateway gateway)
{
    [Theory]
    [MemberData(nameof(AdminAuthenticationTests.Endpoints), MemberType = typeof(AdminAuthenticationTests))]
    public async Task The_read_only_token_reads_every_endpoint(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminGateway.ReadOnlyToken);
        // The live tail answers with a stream that stays open: its status line is enough.
        using var response = await gateway.Operations.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        // 404 is an authorized answer: that device or message does not exist.
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"GET {path} with the read-only token: {(int)response.StatusCode}");
    }

    [Fact]
    public async Task The_read_only_token_is_refused_on_every_mutating_endpoint_and_changes_nothing()
    {
        var device = AdminGateway.NewDeviceId("readonly");
        await gateway.PostAsync(device);
        var mutating = MutatingEndpoints(device);
        Assert.True(mutating.Count >= 8, $"found only {mutating.Count} mutating admin endpoints: {string.Join(", ", mutating)}");

        foreach (var (method, path) in mutating)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path)
            {
                Content = new StringContent("""{"all": true}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminGateway.ReadOnlyToken);
            using var response = await gateway.Operations.SendAsync(request);

            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} with the read-only token: {(int)response.StatusCode}");
            Assert.Equal("read-only-token", ReasonOf(await response.Content.ReadAsStringAsync()));
        }

        using var admin = gateway.Admin;
        Assert.False((await admin.GetJsonAsync($"/admin/v1/devices/{device}")).GetProperty("disabled").GetBoolean());
        Assert.All((await admin.GetJsonAsync("/admin/v1/sinks")).GetProperty("items").EnumerateArray(),
            sink => Assert.False(sink.GetProperty("paused").GetBoolean()));
    }

    // Every admin route that is not a read, from the app's own route table, with sample values for its parameters.
    private List<(string Method, string Path)> MutatingEndpoints(string device) =>
        [.. gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.RoutePattern.RawText?.StartsWith("/admin/v1", StringComparison.Ordinal) == true)
            .SelectMany(endpoint => (endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [])
                .Where(method => method is not ("GET" or "HEAD"))
                .Select(method => (method, RouteParameter().Replace(endpoint.RoutePattern.RawText!, match => match.Groups[1].Value switch
                {
                    "deviceId" => device,
                    "sink" => "file",
                    var other => other,
                }))))];

    private static string? ReasonOf(string problem) =>
        problem.StartsWith('{') && JsonDocument.Parse(problem).RootElement.TryGetProperty("reason", out var reason) ? reason.GetString() : null;

    [GeneratedRegex(@"\{(\w+)[^}]*\}")]
    private static partial Regex RouteParameter();
}
