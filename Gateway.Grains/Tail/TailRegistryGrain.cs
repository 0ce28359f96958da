namespace Gateway.Tail;

/// <summary>
/// Keeps viewers' leases in memory only: if its activation is lost, viewers re-register at their next renewal,
/// and until then their tails miss messages (the live tail is best effort; the WAL is the record).
/// </summary>
public sealed class TailRegistryGrain(TimeProvider time) : Grain, ITailRegistryGrain
{
    private readonly Dictionary<Guid, (int[] Partitions, DateTimeOffset Until)> _viewers = [];

    /// <inheritdoc />
    public Task WatchAsync(Guid viewer, int[] partitions, TimeSpan lease)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        _viewers[viewer] = (partitions, time.GetUtcNow() + lease);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ForgetAsync(Guid viewer)
    {
        _viewers.Remove(viewer);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<int[]> GetWatchedPartitionsAsync()
    {
        var now = time.GetUtcNow();
        foreach (var expired in _viewers.Where(viewer => viewer.Value.Until <= now).Select(viewer => viewer.Key).ToList())
        {
            _viewers.Remove(expired);
        }

        return Task.FromResult(_viewers.Values.SelectMany(viewer => viewer.Partitions).Distinct().Order().ToArray());
    }
}
