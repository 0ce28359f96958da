using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Operations;

namespace Gateway.Tests.Admin;

/// <summary>
/// The in-process gateway with the admin API on a known token, device bookkeeping flushed quickly, and the upstream
/// sink dead-lettering after two attempts with short backoffs (its circuit kept closed), so a test can make messages
/// go Dead within a second.
/// </summary>
public sealed class AdminGateway() : InProcessGateway(new Dictionary<string, string?>
{
    ["Gateway:Admin:Token"] = Token,
    ["Gateway:Admin:ReadOnlyToken"] = ReadOnlyToken,
    ["Gateway:Devices:StateFlushInterval"] = "00:00:00.200",
    ["Gateway:Delivery:MaxAttempts"] = "2",
    ["Gateway:Delivery:BackoffBase"] = "00:00:00.020",
    ["Gateway:Delivery:BackoffCap"] = "00:00:00.100",
    ["Gateway:Sinks:1:CircuitFailureThreshold"] = "10000",
})
{
    public const string Token = "admin-test-token-0123456789abcdef";

    /// <summary>The read-only admin token: reads, never changes.</summary>
    public const string ReadOnlyToken = "read-only-test-token-0123456789";

    /// <summary>A client of the operations port that sends the admin token.</summary>
    public HttpClient Admin
    {
        get
        {
            var client = new HttpClient { BaseAddress = Operations.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            return client;
        }
    }

    public static string NewDeviceId(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..10]}";

    /// <summary>Posts one JSON message over HTTP ingest and returns its message id.</summary>
    public async Task<string> PostAsync(string deviceId, string json = """{"value": 1}""")
    {
        using var response = await Http.PostJsonAsync(deviceId, json);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.AcceptedIdsAsync()).Single();
    }

    /// <summary>Upstream answers 503 to any batch holding a message of <paramref name="deviceId"/>, 200 to the rest.</summary>
    public void FailUpstreamFor(string deviceId) =>
        Upstream.Respond = records => records.Any(record => record.GetProperty("deviceId").GetString() == deviceId) ? (503, null) : (200, null);

    public void HealUpstream() => Upstream.Respond = _ => (200, null);

    /// <summary>How many times upstream accepted the message <paramref name="messageId"/>.</summary>
    public int UpstreamAcceptedCount(string messageId) =>
        Upstream.Accepted.Count(record => record.GetProperty("messageId").GetString() == messageId);
}

[CollectionDefinition(Name)]
public sealed class AdminGatewayCollection : ICollectionFixture<AdminGateway>
{
    public const string Name = "admin-gateway";
}

/// <summary>Reads admin answers.</summary>
public static class AdminJson
{
    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string path, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await client.GetAsync(path);
        return await response.ReadJsonAsync(expected);
    }

    public static async Task<JsonElement> PostAdminAsync(this HttpClient client, string path, object? body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = body is null ? await client.PostAsync(path, null) : await client.PostAsJsonAsync(path, body);
        return await response.ReadJsonAsync(expected);
    }

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"Expected {expected}, got {response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts a problem+json 400 that names <paramref name="field"/>.</summary>
    public static async Task AssertInvalidFieldAsync(this HttpResponseMessage response, string field)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync(HttpStatusCode.BadRequest);
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"errors should name {field}: {problem}");
    }
}
