using System.Net;
using System.Text.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Operations;

/// <summary>Reads <c>/readyz</c> and waits for it to say what a test expects.</summary>
public static class ReadinessProbe
{
    public static async Task<(HttpStatusCode Status, JsonElement Report)> GetAsync(GatewayProcess gateway)
    {
        using var response = await gateway.Operations.GetAsync("/readyz");
        var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return (response.StatusCode, report);
    }

    /// <summary>Waits until <paramref name="check"/> fails, then returns its reason (the whole answer must be 503).</summary>
    public static async Task<string> WaitForFailureAsync(GatewayProcess gateway, string check)
    {
        string? reason = null;
        await Eventually.TrueAsync(async () =>
        {
            var (status, report) = await GetAsync(gateway);
            var result = report.GetProperty("checks").GetProperty(check);
            if (status != HttpStatusCode.ServiceUnavailable || result.GetProperty("status").GetString() != "fail")
            {
                return false;
            }

            Assert.Equal("not-ready", report.GetProperty("status").GetString());
            reason = result.GetProperty("reason").GetString();
            return true;
        }, $"readiness to fail its '{check}' check");
        return reason!;
    }

    public static Task WaitForReadyAsync(GatewayProcess gateway) =>
        Eventually.TrueAsync(async () => (await GetAsync(gateway)).Status == HttpStatusCode.OK, "readiness to pass again");
}
