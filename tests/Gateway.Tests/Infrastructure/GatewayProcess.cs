using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The real gateway executable (Gateway.Silo.dll from the test output) as a child process on free loopback
/// ports with its own data folder: what an operator runs, including being killed with SIGKILL.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private static readonly string SiloDll = Path.Combine(AppContext.BaseDirectory, "Gateway.Silo.dll");
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private GatewayProcess(Process process, string dataPath, int httpPort, int operationsPort, int mqttPort)
    {
        _process = process;
        DataPath = dataPath;
        MqttPort = mqttPort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(30) };
        // A connection per request: a refusal that closes its connection (413 before the body is read) must not
        // fail the next test's request on the same pooled connection.
        Http.DefaultRequestHeaders.ConnectionClose = true;
        Operations = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{operationsPort}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public string DataPath { get; }

    /// <summary>
    /// The settings of one node of a cluster on PostgreSQL: on loopback, with a partition reminder of a minute so a
    /// test sees the failover path (membership), not the reminder backstop.
    /// </summary>
    public static Dictionary<string, string> ClusterSettings(string connectionString, string clusterId) => new()
    {
        ["Gateway:Cluster:Mode"] = "PostgreSql",
        ["Gateway:Cluster:ConnectionString"] = connectionString,
        ["Gateway:Orleans:AdvertisedAddress"] = "127.0.0.1",
        ["Gateway:Orleans:ClusterId"] = clusterId,
        ["Gateway:Orleans:ServiceId"] = clusterId,
        ["Gateway:Delivery:ReminderPeriod"] = "00:01:00",
    };

    /// <summary>The gateway's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Port of the plaintext MQTT listener (loopback).</summary>
    public int MqttPort { get; }

    /// <summary>Client for the ingest port.</summary>
    public HttpClient Http { get; }

    /// <summary>Client for the operations port (health).</summary>
    public HttpClient Operations { get; }

    public string SinkFolder => Path.Combine(DataPath, "sink");

    /// <summary>A client of the operations port that sends the admin token the gateway generated in its data folder.</summary>
    public HttpClient GeneratedTokenAdmin()
    {
        var token = File.ReadAllText(Path.Combine(DataPath, Gateway.Silo.Admin.AdminOptions.GeneratedTokenFileName)).Trim();
        var client = new HttpClient { BaseAddress = Operations.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    private const int MaxPortAttempts = 3;

    /// <summary>
    /// Starts the gateway and waits (a minute unless told) until <c>/readyz</c> answers 200. A <paramref name="launcher"/>
    /// (a program and its first arguments) runs the gateway as its child, the path of Gateway.Silo.dll appended to its arguments.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(
        string dataPath, IReadOnlyDictionary<string, string>? settings = null, IReadOnlyList<string>? launcher = null, TimeSpan? readyTimeout = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var gateway = Launch(dataPath, settings, launcher);
            try
            {
                await Eventually.TrueAsync(gateway.IsReadyAsync, "the gateway to report ready", readyTimeout ?? TimeSpan.FromSeconds(60));
                return gateway;
            }
            catch (InvalidOperationException) when (attempt < MaxPortAttempts && gateway.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                // A port FreePort picked was taken (by some test's outgoing connection) before the gateway bound it:
                // start again on fresh ports.
                await gateway.DisposeAsync();
            }
            catch (TimeoutException error)
            {
                await gateway.DisposeAsync();
                throw new TimeoutException($"{error.Message}\n{gateway.Output}");
            }
        }
    }

    /// <summary>Starts the gateway and waits for it to exit by itself (a start that must fail).</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string dataPath, IReadOnlyDictionary<string, string> settings)
    {
        await using var gateway = Launch(dataPath, settings);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await gateway._process.WaitForExitAsync(timeout.Token);
        return (gateway._process.ExitCode, gateway.Output);
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like a crash or <c>kill -9</c>.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        Http.Dispose();
        Operations.Dispose();
        _process.Dispose();
        await Task.CompletedTask;
    }

    private static GatewayProcess Launch(string dataPath, IReadOnlyDictionary<string, string>? settings, IReadOnlyList<string>? launcher = null)
    {
        var httpPort = FreePort.Next();
        var operationsPort = FreePort.Next();
        var mqttPort = FreePort.Next();
        var start = new ProcessStartInfo(launcher?[0] ?? "dotnet", [.. launcher?.Skip(1) ?? [], SiloDll])
        {
            // A data folder the gateway is to create on first start cannot be its working folder yet.
            WorkingDirectory = Directory.Exists(dataPath) ? dataPath : AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Gateway__DataPath"] = dataPath;
        start.Environment["Gateway__Http__Port"] = httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Gateway__Operations__Port"] = operationsPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Gateway__Mqtt__Port"] = mqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Gateway__Orleans__SiloPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Gateway__Orleans__GatewayPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = new Process { StartInfo = start };
        var gateway = new GatewayProcess(process, dataPath, httpPort, operationsPort, mqttPort);
        process.OutputDataReceived += (_, line) => gateway.Append(line.Data);
        process.ErrorDataReceived += (_, line) => gateway.Append(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return gateway;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private async Task<bool> IsReadyAsync()
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"The gateway exited with code {_process.ExitCode}:\n{Output}");
        }

        try
        {
            using var response = await Operations.GetAsync("/readyz");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}

/// <summary>The 202 body of the telemetry endpoint.</summary>
public sealed record AcceptedBody(List<string> MessageIds);

public static class TelemetryClient
{
    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient http, string deviceId, string json) =>
        http.PostAsync($"/v1/devices/{deviceId}/telemetry", new StringContent(json, Encoding.UTF8, "application/json"));

    public static async Task<List<string>> AcceptedIdsAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<AcceptedBody>())!.MessageIds;

    /// <summary>Asserts an ingest refusal: the status, an RFC 9457 body with that status, the stable reason and a detail.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string reason)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(reason, problem.GetProperty("reason").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        return problem;
    }
}
