using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real mosquitto broker (Debian package) on a free loopback port, configured by the test, in its own
/// temp folder; stopped (and restartable on the same port) by the test.
/// </summary>
public sealed class MosquittoBroker : IAsyncDisposable
{
    private readonly string _configPath;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private MosquittoBroker(string configPath, int port)
    {
        _configPath = configPath;
        Port = port;
    }

    public int Port { get; }

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

    /// <summary>Starts mosquitto with <paramref name="listenerSettings"/> added to a loopback listener on a free port.</summary>
    public static async Task<MosquittoBroker> StartAsync(string folder, string listenerSettings)
    {
        var port = FreePort.Next();
        var configPath = Path.Combine(folder, "mosquitto.conf");
        await File.WriteAllTextAsync(configPath, $"""
            # Keep root: the test's key files live in the test's temp folder.
            user root
            persistence false
            log_dest stdout
            listener {port} 127.0.0.1
            {listenerSettings}
            """);
        var broker = new MosquittoBroker(configPath, port);
        await broker.StartAsync();
        return broker;
    }

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo(ExternalTools.Find("mosquitto") ?? "mosquitto", ["-c", _configPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, line) => Append(line.Data);
        _process.ErrorDataReceived += (_, line) => Append(line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Eventually.TrueAsync(async () =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"mosquitto exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, "mosquitto listening", TimeSpan.FromSeconds(10));
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
