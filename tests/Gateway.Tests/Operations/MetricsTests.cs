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

    [Fact]
    public async Task Metrics_show_each_sinks_backlog_and_oldest_age_each_readiness_check_the_cluster_and_the_process()
    {
        // Backlogs and readiness are read when a scrape finds them stale, so a later scrape shows them.
        var text = "";
        await Eventually.TrueAsync(async () => (text = await ScrapeAsync()).Contains("gateway_readiness_status{", StringComparison.Ordinal)
            && text.Contains("gateway_sink_backlog{", StringComparison.Ordinal), "the sampled series");

        Assert.Matches("""gateway_readiness_status\{[^}]*gateway_check="wal"\} 1""", text);
        Assert.Matches("""gateway_readiness_status\{[^}]*gateway_check="silo"\} 1""", text);
        Assert.Matches("""gateway_sink_backlog\{[^}]*gateway_sink="file"\} \d""", text);
        Assert.Matches("""gateway_sink_oldest_pending_age_seconds\{[^}]*gateway_sink="file"\} [\d.]""", text);
        Assert.Matches("""gateway_cluster_silos_active\{[^}]*\} 1""", text);
        Assert.Matches("""dotnet_process_cpu_time_seconds_total\{[^}]*cpu_mode="user"\} [\d.]""", text);
        Assert.Matches("""dotnet_process_memory_working_set_bytes\{[^}]*\} [1-9]""", text);
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
        await using var prometheus = await PrometheusServer.StartAsync($"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: gateway
                static_configs:
                  - targets: ["127.0.0.1:{fixture.OperationsPort}"]
            """);

        JsonElement target = default;
        await Eventually.TrueAsync(async () => (await prometheus.TargetsAsync()) is [var only] && (target = only).GetProperty("health").GetString() == "up",
            "Prometheus to scrape the gateway successfully");
        Assert.Equal("", target.GetProperty("lastError").GetString());
        await Eventually.TrueAsync(async () => await prometheus.ScalarAsync("""gateway_wal_records{gateway_wal_state="acked"}""") >= 1,
            "Prometheus to hold the gateway's acked record count");
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
