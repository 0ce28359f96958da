using System.Diagnostics;
using System.Collections.Concurrent;

namespace Gateway.Load.Load;

/// <summary>
/// Counts what the devices saw. Acknowledgements inside the measured window count towards the rate and their
/// latencies towards the percentiles; warm-up and the drain at the end are left out.
/// </summary>
internal sealed class LoadRecorder
{
    private readonly ConcurrentBag<List<long>> _latencyLists = [];
    private long _measuredAcknowledged;
    private long _acknowledged;
    private long _refused;
    private long _lost;
    private long _reconnects;
    private long _windowStart = long.MaxValue;
    private long _windowEnd = long.MaxValue;

    public long Acknowledged => Interlocked.Read(ref _acknowledged);
    public long MeasuredAcknowledged => Interlocked.Read(ref _measuredAcknowledged);
    public long Refused => Interlocked.Read(ref _refused);
    public long Lost => Interlocked.Read(ref _lost);
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Wall time of the measured window, from its opening to its closing (or now, while open).</summary>
    public TimeSpan Window => Stopwatch.GetElapsedTime(Interlocked.Read(ref _windowStart), Math.Min(Interlocked.Read(ref _windowEnd), Stopwatch.GetTimestamp()));

    public void OpenWindow() => Interlocked.Exchange(ref _windowStart, Stopwatch.GetTimestamp());

    public void CloseWindow() => Interlocked.Exchange(ref _windowEnd, Stopwatch.GetTimestamp());

    /// <summary>A list for one device's latencies (TimeSpan ticks), so devices never contend on one list.</summary>
    public List<long> NewLatencyList()
    {
        var list = new List<long>(1024);
        _latencyLists.Add(list);
        return list;
    }

    /// <summary>Counts an acknowledgement of a message sent at <paramref name="sentAt"/> (a Stopwatch timestamp).</summary>
    public void Acknowledge(List<long> latencies, long sentAt)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _acknowledged);
        if (sentAt >= Interlocked.Read(ref _windowStart) && now <= Interlocked.Read(ref _windowEnd))
        {
            Interlocked.Increment(ref _measuredAcknowledged);
            latencies.Add(Stopwatch.GetElapsedTime(sentAt, now).Ticks);
        }
    }

    public void Refuse() => Interlocked.Increment(ref _refused);

    public void Lose() => Interlocked.Increment(ref _lost);

    public void Reconnect() => Interlocked.Increment(ref _reconnects);

    /// <summary>Every measured latency; call once the devices have stopped.</summary>
    public long[] Latencies() => _latencyLists.SelectMany(list => list).ToArray();
}
