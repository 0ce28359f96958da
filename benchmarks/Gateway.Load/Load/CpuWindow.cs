using System.Diagnostics;

namespace Gateway.Load.Load;

/// <summary>
/// CPU time spent during the measured window by the load generator itself and, when given, by the server under
/// test, and the bytes the server caused to be written to storage (<c>/proc/{pid}/io</c> <c>write_bytes</c>). On a
/// machine the two share, the rate a broker reaches depends on both: these say what each message cost.
/// </summary>
internal sealed class CpuWindow : IDisposable
{
    private readonly Process? _server;
    private TimeSpan _loadStart;
    private TimeSpan _serverStart;
    private TimeSpan? _load;
    private TimeSpan? _serverTime;
    private long _serverWrittenStart;
    private long? _serverWritten;

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
        _serverWrittenStart = ServerWrittenBytes() ?? 0;
    }

    public void Close()
    {
        _load = LoadTime() - _loadStart;
        _serverTime = _server is null ? null : ServerTime() - _serverStart;
        _serverWritten = ServerWrittenBytes() - _serverWrittenStart;
    }

    /// <summary>Microseconds of the load generator's CPU per message, once closed.</summary>
    public double? LoadMicrosecondsPer(long messages) => PerMessage(_load, messages);

    /// <summary>Microseconds of the server's CPU per message, once closed; null without a server process.</summary>
    public double? ServerMicrosecondsPer(long messages) => PerMessage(_serverTime, messages);

    /// <summary>The server's CPU over the window as a percentage of one core, once closed; null without a server process.</summary>
    public double? ServerCorePercent(TimeSpan window) =>
        _serverTime is { } cpu && window > TimeSpan.Zero ? Math.Round(cpu / window * 100, 2) : null;

    /// <summary>Bytes the server caused to be written to storage per message, once closed; null without a server process.</summary>
    public double? ServerWrittenBytesPer(long messages) =>
        _serverWritten is { } bytes && messages > 0 ? Math.Round((double)bytes / messages, 0) : null;

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

    // write_bytes counts the pages the process dirtied that reach the block layer: what flash wears on. It needs the
    // right to read the process's io file (same user or root); without it the figure is left out.
    private long? ServerWrittenBytes()
    {
        if (_server is null)
        {
            return null;
        }

        try
        {
            foreach (var line in File.ReadLines($"/proc/{_server.Id}/io"))
            {
                if (line.StartsWith("write_bytes:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan("write_bytes:".Length), System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }
}
