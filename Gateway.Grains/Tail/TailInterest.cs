namespace Gateway.Tail;

/// <summary>
/// This silo's copy of which tail streams are watched (<see cref="ITailRegistryGrain"/>), read by device grains on
/// every accepted batch without a call. A viewer on this silo is known at once; one on another silo once
/// <see cref="TailInterestRefresher"/> has fetched the registry again.
/// </summary>
public sealed class TailInterest(TimeProvider time)
{
    private readonly Lock _lock = new();
    private int[] _watched = [];
    private DateTimeOffset _lastLocalChange = DateTimeOffset.MinValue;

    /// <summary>Whether the tail stream of <paramref name="partition"/> has a viewer.</summary>
    public bool IsWatched(int partition) => Array.IndexOf(Volatile.Read(ref _watched), partition) >= 0;

    /// <summary>A viewer on this silo starts watching <paramref name="partitions"/>: effective at once here.</summary>
    public void Watch(IEnumerable<int> partitions)
    {
        lock (_lock)
        {
            Volatile.Write(ref _watched, _watched.Union(partitions).Order().ToArray());
            _lastLocalChange = time.GetUtcNow();
        }
    }

    /// <summary>
    /// Replaces the watched set with the registry's, fetched from <paramref name="fetchStarted"/> on. A fetch that
    /// began before a local viewer registered may not hold it yet, so it only adds until the next one.
    /// </summary>
    public void Replace(int[] partitions, DateTimeOffset fetchStarted)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        lock (_lock)
        {
            Volatile.Write(ref _watched, fetchStarted <= _lastLocalChange ? _watched.Union(partitions).Order().ToArray() : partitions);
        }
    }
}
