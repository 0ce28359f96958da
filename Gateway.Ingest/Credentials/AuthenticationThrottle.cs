using System.Collections.Concurrent;
using System.Net;

namespace Gateway.Ingest.Credentials;

/// <summary>
/// Slows password guessing: counts failed secret checks per IP address over a sliding window, and once an address
/// reaches the limit it is refused without a check (so without a grain call) until its oldest failure ages out.
/// </summary>
public sealed class AuthenticationThrottle(TimeProvider time, int maxFailures, TimeSpan window)
{
    // Bounds the table under a spray from many addresses: past this, expired entries are swept on the next failure.
    private const int SweepThreshold = 10_000;

    private readonly ConcurrentDictionary<IPAddress, Queue<DateTimeOffset>> _failures = new();

    /// <summary>True when <paramref name="address"/> has used up its failures for now.</summary>
    public bool IsThrottled(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!_failures.TryGetValue(address, out var failures))
        {
            return false;
        }

        lock (failures)
        {
            Expire(failures, time.GetUtcNow());
            return failures.Count >= maxFailures;
        }
    }

    /// <summary>Records a failed secret check from <paramref name="address"/>.</summary>
    public void RecordFailure(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var now = time.GetUtcNow();
        if (_failures.Count > SweepThreshold)
        {
            Sweep(now);
        }

        var failures = _failures.GetOrAdd(address, static _ => new Queue<DateTimeOffset>());
        lock (failures)
        {
            Expire(failures, now);
            failures.Enqueue(now);
        }
    }

    private void Expire(Queue<DateTimeOffset> failures, DateTimeOffset now)
    {
        while (failures.Count > 0 && now - failures.Peek() >= window)
        {
            failures.Dequeue();
        }
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (address, failures) in _failures)
        {
            lock (failures)
            {
                Expire(failures, now);
                if (failures.Count == 0)
                {
                    _failures.TryRemove(address, out _);
                }
            }
        }
    }
}
