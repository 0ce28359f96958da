using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real Prometheus server (Debian's <c>prometheus</c>) on a free loopback port with its data in a temporary folder,
/// run with the configuration the test writes; stopped (killed) on dispose. Queries go through its HTTP API.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;

    private PrometheusServer(Process process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>A client of the server's HTTP API.</summary>
    public HttpClient Api { get; }

    /// <summary>Starts Prometheus with <paramref name="configuration"/> (prometheus.yml text) and waits until it answers.</summary>
    public static async Task<PrometheusServer> StartAsync(string configuration)
    {
        var directory = new TempDirectory();
        var config = directory.Combine("prometheus.yml");
        await File.WriteAllTextAsync(config, configuration);
        var port = FreePort.Next();
        var process = new Process
        {
            StartInfo = new ProcessStartInfo(ExternalTools.Find("prometheus") ?? throw new InvalidOperationException("prometheus is not installed"),
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
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, directory, port);
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                return (await server.Api.GetAsync("/-/ready")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "Prometheus to answer");
        return server;
    }

    /// <summary>The active scrape targets (<c>/api/v1/targets</c>).</summary>
    public async Task<IReadOnlyList<JsonElement>> TargetsAsync() =>
        [.. (await GetDataAsync("/api/v1/targets")).GetProperty("activeTargets").EnumerateArray()];

    /// <summary>The alerting and recording rules as loaded and last evaluated (<c>/api/v1/rules</c>).</summary>
    public async Task<IReadOnlyList<JsonElement>> RulesAsync() =>
        [.. (await GetDataAsync("/api/v1/rules")).GetProperty("groups").EnumerateArray().SelectMany(group => group.GetProperty("rules").EnumerateArray())];

    /// <summary>Evaluates <paramref name="expression"/> now; throws with Prometheus' error when it does not evaluate.</summary>
    public async Task<IReadOnlyList<JsonElement>> QueryAsync(string expression)
    {
        var data = await GetDataAsync("/api/v1/query?query=" + Uri.EscapeDataString(expression));
        var result = data.GetProperty("result");
        return result.ValueKind == JsonValueKind.Array ? [.. result.EnumerateArray()] : [result];
    }

    /// <summary>The single number <paramref name="expression"/> evaluates to, or null when it returns no series.</summary>
    public async Task<double?> ScalarAsync(string expression) =>
        (await QueryAsync(expression)) is [var only] ? double.Parse(only.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture) : null;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        Api.Dispose();
        _directory.Dispose();
    }

    private async Task<JsonElement> GetDataAsync(string path)
    {
        using var response = await Api.GetAsync(path);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        if (body.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"Prometheus {path}: {body.GetProperty("error").GetString()}");
        }

        return body.GetProperty("data").Clone();
    }
}
