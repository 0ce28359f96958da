using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Gateway.Benchmarks.Http;

/// <summary>
/// The built gateway running as a child process on a temp data folder and free loopback ports. Disposing it
/// kills the process and deletes the folder.
/// </summary>
internal sealed class GatewayProcess : IAsyncDisposable
{
    private const int OutputLinesKept = 40;
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(90);
    // Short, because cold-start measures the time to the first 200.
    private static readonly TimeSpan ReadyPollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ReadyProbeTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(15);

    private readonly Process _process;
    private readonly TempFolder _dataFolder;
    private readonly OutputTail _output;
    private readonly Uri _readinessProbe;

    private GatewayProcess(Process process, TempFolder dataFolder, OutputTail output, Uri ingestAddress, Uri readinessProbe)
    {
        _process = process;
        _dataFolder = dataFolder;
        _output = output;
        IngestAddress = ingestAddress;
        _readinessProbe = readinessProbe;
    }

    /// <summary>From just before the process was started until <c>/readyz</c> first answered 200.</summary>
    public TimeSpan ReadyAfter { get; private set; }

    /// <summary>Base address of the ingest listener.</summary>
    public Uri IngestAddress { get; }

    /// <summary>CPU time (user and system) the gateway process has used so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Starts <paramref name="siloAssembly"/> with <c>dotnet</c> and returns once <c>/readyz</c> answers 200.</summary>
    public static Task<GatewayProcess> StartAsync(string siloAssembly, CancellationToken cancellationToken) =>
        StartAsync(siloAssembly, TempFolder.Create("gateway-bench-http"), new Dictionary<string, string>(), cancellationToken);

    /// <summary>
    /// Starts the gateway on <paramref name="dataFolder"/> (which it then owns and deletes) with extra
    /// configuration <paramref name="settings"/> (keys as in appsettings, e.g. <c>Gateway:Sinks:0:Url</c>).
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(
        string siloAssembly, TempFolder dataFolder, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        if (!File.Exists(siloAssembly))
        {
            throw new FileNotFoundException($"The gateway is not built at '{siloAssembly}'; build the solution in Release first.", siloAssembly);
        }

        var ports = FreePorts.Take(4);
        var (ingestPort, operationsPort) = (ports[0], ports[1]);
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { siloAssembly },
            // The content root, where appsettings.json is looked for, is the working directory.
            WorkingDirectory = Path.GetDirectoryName(siloAssembly),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Gateway__DataPath"] = dataFolder.Path;
        start.Environment["Gateway__Http__Port"] = ingestPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["Gateway__Operations__Port"] = operationsPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["Gateway__Orleans__SiloPort"] = ports[2].ToString(CultureInfo.InvariantCulture);
        start.Environment["Gateway__Orleans__GatewayPort"] = ports[3].ToString(CultureInfo.InvariantCulture);
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var output = new OutputTail(OutputLinesKept);
        var launched = Stopwatch.GetTimestamp();
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        }
        catch
        {
            dataFolder.Dispose();
            throw;
        }

        // Read both pipes continuously: a child whose pipe fills up blocks on its next log line.
        process.OutputDataReceived += (_, line) => output.Add(line.Data);
        process.ErrorDataReceived += (_, line) => output.Add(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var gateway = new GatewayProcess(process, dataFolder, output, LoopbackHttp.Address(ingestPort),
            new Uri(LoopbackHttp.Address(operationsPort), "readyz"));
        try
        {
            await gateway.WaitUntilReadyAsync(launched, cancellationToken).ConfigureAwait(false);
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        using (var exit = new CancellationTokenSource(ExitDeadline))
        {
            try
            {
                await _process.WaitForExitAsync(exit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                StatusLog.Write($"The gateway (pid {_process.Id}) did not exit within {ExitDeadline.TotalSeconds} s of being killed.");
            }
        }

        _process.Dispose();
        _dataFolder.Dispose();
    }

    private async Task WaitUntilReadyAsync(long started, CancellationToken cancellationToken)
    {
        using var client = LoopbackHttp.CreateClient(1, ReadyProbeTimeout);
        while (Stopwatch.GetElapsedTime(started) < ReadyDeadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"The gateway exited with code {_process.ExitCode} before it was ready. Its last output:{Environment.NewLine}{_output}");
            }

            if (await IsReadyAsync(client, cancellationToken).ConfigureAwait(false))
            {
                ReadyAfter = Stopwatch.GetElapsedTime(started);
                StatusLog.Write($"the gateway was ready after {ReadyAfter.TotalSeconds:F1} s");
                return;
            }

            await Task.Delay(ReadyPollInterval, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException(
            $"The gateway was not ready within {ReadyDeadline.TotalSeconds} s. Its last output:{Environment.NewLine}{_output}");
    }

    private async Task<bool> IsReadyAsync(HttpClient client, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.GetAsync(_readinessProbe, cancellationToken).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false; // Not listening yet.
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false; // The probe timed out: still starting.
        }
    }
}
