using System.Diagnostics;

namespace Gateway.Load.Load;

/// <summary>
/// CPU time spent during the measured window by the load generator itself and, when given, by the server under
/// test. On a machine the two share, the rate a broker reaches depends on both: these say what each message cost.
/// </summary>
internal sealed class CpuWindow : IDisposable
{
    private readonly Process? _server;
    private TimeSpan _loadStart;
    private TimeSpan _serverStart;
    private TimeSpan? _load;
    private TimeSpan? _serverTime;

    /// <param name="serverPid">The server's process id, or null to measure the load generator alone.</param>
    public CpuWindow(int? serverPid)
    {
        _server = serverPid is { } pid ? Process.GetProcessById(pid) : null;
    }

    public void Dispose() => _server?.Dispose();

    public void Open()
    {
        _loadStart = LoadTime();
        _serverStart = ServerTime();
    }

    public void Close()
    {
        _load = LoadTime() - _loadStart;
        _serverTime = _server is null ? null : ServerTime() - _serverStart;
    }

    /// <summary>Microseconds of the load generator's CPU per message, once closed.</summary>
    public double? LoadMicrosecondsPer(long messages) => PerMessage(_load, messages);

    /// <summary>Microseconds of the server's CPU per message, once closed; null without a server process.</summary>
    public double? ServerMicrosecondsPer(long messages) => PerMessage(_serverTime, messages);

    private static double? PerMessage(TimeSpan? cpu, long messages) =>
        cpu is { } time && messages > 0 ? Math.Round(time.TotalMicroseconds / messages, 1) : null;

    private static TimeSpan LoadTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    private TimeSpan ServerTime()
    {
        if (_server is null)
        {
            return TimeSpan.Zero;
        }

        // Process caches what it read; each reading must be fresh.
        _server.Refresh();
        return _server.TotalProcessorTime;
    }
}
