using System.Globalization;
using System.Net;
using System.Text.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Operations;

[Collection(OperationsGatewayCollection.Name)]
public sealed class MetricsTests(OperationsGatewayFixture fixture)
{
    private GatewayProcess Gateway => fixture.Gateway;

    [Fact]
    public async Task Metrics_name_what_was_ingested_refused_stored_committed_and_delivered()
    {
        var text = await ScrapeAsync();

        Assert.Contains("# TYPE gateway_ingest_messages_total counter", text);
        Assert.Matches("""gateway_ingest_messages_total\{[^}]*gateway_ingest_outcome="stored",gateway_transport="http"\} [1-9]""", text);
        Assert.Matches("""gateway_ingest_refusals_total\{[^}]*error_type="malformed-json",gateway_transport="http"\} [1-9]""", text);
        Assert.Matches("""gateway_wal_records\{[^}]*gateway_wal_state="acked"\} [1-9]""", text);
        Assert.Matches("""gateway_wal_records\{[^}]*gateway_wal_state="dead"\} 0""", text);
        Assert.Matches("""gateway_wal_commit_operations_count\{[^}]*\} [1-9]""", text);
        Assert.Matches("""gateway_wal_commit_duration_seconds_bucket\{[^}]*le="0.01"\} \d""", text);
        Assert.Matches("""gateway_delivery_duration_seconds_count\{[^}]*gateway_sink="file"\} [1-9]""", text);
        Assert.Matches("""gateway_sink_circuit_state\{[^}]*gateway_sink="file"\} 0""", text);
        Assert.Matches("""gateway_devices_active\{[^}]*\} [1-9]""", text);
        Assert.Matches("""gateway_ingest_backpressure\{[^}]*\} 0""", text);
        Assert.Matches("""gateway_disk_free_bytes\{[^}]*\} [1-9]""", text);
        Assert.Contains("gateway_wal_pending_size_bytes", text);
        Assert.Contains("orleans_", text);
    }

    [RequiresToolsFact("promtool")]
    public async Task Metrics_text_passes_promtool_check_metrics()
    {
        var text = await ScrapeAsync();

        var (exitCode, output) = await ExternalProgram.RunAsync("promtool", ["check", "metrics"], standardInput: text);

        Assert.True(exitCode == 0, $"promtool check metrics failed ({exitCode}):\n{output}");
    }

    [RequiresToolsFact("prometheus")]
    public async Task A_prometheus_server_scrapes_the_gateway()
    {
        using var directory = new TempDirectory();
        var port = FreePort.Next();
        var config = directory.Combine("prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: gateway
                static_configs:
                  - targets: ["127.0.0.1:{fixture.OperationsPort}"]
            """);
        var prometheus = new System.Diagnostics.Process
        {
            StartInfo = new System.Diagnostics.ProcessStartInfo(ExternalTools.Find("prometheus")!,
            [
                $"--config.file={config}",
                $"--storage.tsdb.path={directory.Combine("data")}",
                $"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1h",
            ])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            },
        };
        prometheus.Start();
        prometheus.BeginOutputReadLine();
        prometheus.BeginErrorReadLine();
        try
        {
            using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            JsonElement target = default;
            await Eventually.TrueAsync(async () =>
            {
                try
                {
                    var targets = JsonDocument.Parse(await api.GetStringAsync("/api/v1/targets")).RootElement;
                    var active = targets.GetProperty("data").GetProperty("activeTargets");
                    if (active.GetArrayLength() == 0)
                    {
                        return false;
                    }

                    target = active[0].Clone();
                    return target.GetProperty("health").GetString() == "up";
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, "Prometheus to scrape the gateway successfully");
            Assert.Equal("", target.GetProperty("lastError").GetString());

            await Eventually.TrueAsync(async () =>
            {
                var query = JsonDocument.Parse(await api.GetStringAsync("/api/v1/query?query=gateway_wal_records%7Bgateway_wal_state%3D%22acked%22%7D")).RootElement;
                var results = query.GetProperty("data").GetProperty("result");
                return results.GetArrayLength() == 1
                    && double.Parse(results[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture) >= 1;
            }, "Prometheus to hold the gateway's acked record count");
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
            prometheus.Dispose();
        }
    }

    [Fact]
    public async Task Metrics_and_dashboard_answer_only_on_the_operations_port()
    {
        using var metricsOnIngest = await Gateway.Http.GetAsync("/metrics");
        using var dashboardOnIngest = await Gateway.Http.GetAsync("/dashboard/");
        using var dashboardApiOnIngest = await Gateway.Http.GetAsync("/dashboard/DashboardCounters");
        using var dashboard = await Gateway.Operations.GetAsync("/dashboard/");

        Assert.Equal(HttpStatusCode.NotFound, metricsOnIngest.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, dashboardOnIngest.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, dashboardApiOnIngest.StatusCode);
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
    }

    private async Task<string> ScrapeAsync()
    {
        using var response = await Gateway.Operations.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }
}
