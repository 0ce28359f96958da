using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Operations;

[Collection(OperationsGatewayCollection.Name)]
public sealed class DashboardTests(OperationsGatewayFixture fixture)
{
    /// <summary>Set to a path (e.g. docs/dashboard.png) to keep the screenshot; the README's is made this way.</summary>
    private const string ScreenshotVariable = "GATEWAY_DASHBOARD_SCREENSHOT";

    [RequiresToolsFact("chromium")]
    public async Task The_dashboard_loads_in_headless_chromium_and_shows_the_gateways_grains_under_load()
    {
        using var directory = new TempDirectory();
        var screenshot = directory.Combine("dashboard.png");
        using var load = new CancellationTokenSource();
        var loadTask = LoadAsync(fixture.Gateway, load.Token);
        try
        {
            // The grain counters reach the dashboard through its silo service, sampled every second.
            await Eventually.TrueAsync(async () =>
                (await fixture.Gateway.Operations.GetStringAsync("/dashboard/DashboardCounters")).Contains("Gateway.Devices.DeviceGrain", StringComparison.Ordinal),
                "the dashboard to count device grains");

            var (exitCode, dom) = await ExternalProgram.RunAsync("chromium",
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                $"--user-data-dir={directory.Combine("chromium-profile")}",
                "--window-size=1400,1000", "--virtual-time-budget=5000", "--dump-dom", $"--screenshot={screenshot}",
                $"http://127.0.0.1:{fixture.OperationsPort}/dashboard/#/grains",
            ], timeout: TimeSpan.FromSeconds(90));

            Assert.True(exitCode == 0, $"chromium failed ({exitCode}):\n{dom}");
            // Rendered by the dashboard's script from its API, so present only when the page really loaded.
            Assert.Contains("Activations by Type", dom);
            Assert.Contains("DeviceGrain", dom);
            Assert.Contains("PartitionGrain", dom);
        }
        finally
        {
            await load.CancelAsync();
            await loadTask;
        }

        var png = await File.ReadAllBytesAsync(screenshot);
        Assert.True(png.Length > 20_000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', $"the screenshot is not a rendered page ({png.Length} bytes)");
        if (Environment.GetEnvironmentVariable(ScreenshotVariable) is { Length: > 0 } keep)
        {
            File.Copy(screenshot, keep, overwrite: true);
        }
    }

    [Fact]
    public async Task The_dashboard_redirects_its_bare_path_and_serves_its_api_on_the_operations_port()
    {
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = fixture.Gateway.Operations.BaseAddress };
        using var bare = await noRedirect.GetAsync("/dashboard");
        using var version = await fixture.Gateway.Operations.GetAsync("/dashboard/version");

        Assert.Equal(HttpStatusCode.MovedPermanently, bare.StatusCode);
        Assert.Equal("/dashboard/", bare.Headers.Location?.ToString());
        Assert.Equal(HttpStatusCode.OK, version.StatusCode);
    }

    /// <summary>Four devices posting in a loop until cancelled (at most 20,000 requests).</summary>
    private static async Task LoadAsync(GatewayProcess gateway, CancellationToken cancellationToken)
    {
        var sent = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 4), async (device, _) =>
        {
            while (!cancellationToken.IsCancellationRequested && Interlocked.Increment(ref sent) <= 20_000)
            {
                using var response = await gateway.Http.PostJsonAsync($"load-{device}-{sent % 32}", """{"load": true}""");
            }
        });
    }
}
