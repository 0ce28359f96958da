using System.Collections.Concurrent;
using System.Globalization;

namespace Gateway.Benchmarks.Http;

/// <summary>
/// Counts requests that did not get 202, by kind. Only the first few kinds are kept, since a detail
/// that embeds a number would otherwise make every error a kind of its own.
/// </summary>
internal sealed class IngestErrors
{
    private const int MaxKinds = 10;
    private readonly ConcurrentDictionary<string, int> _countByKind = new(StringComparer.Ordinal);
    private int _total;

    /// <summary>All errors, whether or not their kind was kept.</summary>
    public int Total => Volatile.Read(ref _total);

    /// <summary>Counts one error of <paramref name="kind"/>.</summary>
    public void Add(string kind)
    {
        Interlocked.Increment(ref _total);
        if (_countByKind.Count < MaxKinds || _countByKind.ContainsKey(kind))
        {
            _countByKind.AddOrUpdate(kind, 1, (_, count) => count + 1);
        }
    }

    /// <summary>One line per kept kind: its count and what it was.</summary>
    public IEnumerable<string> Describe() =>
        _countByKind.Select(pair => string.Create(CultureInfo.InvariantCulture, $"{pair.Value:N0} x {pair.Key}"));
}
