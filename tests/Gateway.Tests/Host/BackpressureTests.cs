using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Host;

public sealed class BackpressureTests
{
    [Fact]
    public async Task Above_the_high_water_mark_ingest_answers_429_with_retry_after_and_readiness_says_why()
    {
        using var directory = new TempDirectory();
        await File.WriteAllTextAsync(directory.Combine("not-a-folder"), "blocks the sink folder");
        // A sink that cannot deliver keeps every record pending, so the WAL fills up.
        await using var gateway = await GatewayProcess.StartAsync(directory.Path, new Dictionary<string, string>
        {
            ["Gateway:Wal:HighWaterMessages"] = "3",
            ["Gateway:Wal:RetryAfterSeconds"] = "7",
            ["Gateway:Sinks:0:Name"] = "cloud",
            ["Gateway:Sinks:0:Type"] = "file",
            ["Gateway:Sinks:0:Path"] = directory.Combine("not-a-folder", "sink"),
        });

        using var accepted = await gateway.Http.PostJsonAsync("pressure-1", "[{},{},{}]");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);

        using var refused = await gateway.Http.PostJsonAsync("pressure-2", "{}");
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), refused.Headers.RetryAfter?.Delta);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("backpressure", problem.GetProperty("reason").GetString());

        using var readiness = await gateway.Operations.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readiness.StatusCode);
        var report = await readiness.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("undelivered records", report.GetProperty("checks").GetProperty("backpressure").GetProperty("reason").GetString());
    }
}
