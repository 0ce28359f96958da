namespace Gateway.Tail;

/// <summary>
/// Which tail streams have viewers anywhere in the cluster (one grain, key 0). Device grains publish accepted messages
/// to a tail stream only while it is watched, so ingest pays nothing for the live tail when nobody looks. Viewers
/// hold a lease they renew; one whose silo died drops out when its lease runs out.
/// </summary>
[Alias("Gateway.ITailRegistryGrain")]
public interface ITailRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Registers or renews <paramref name="viewer"/>'s interest in the streams of <paramref name="partitions"/> for <paramref name="lease"/>.</summary>
    [Alias("Watch")]
    Task WatchAsync(Guid viewer, int[] partitions, TimeSpan lease);

    /// <summary>Removes <paramref name="viewer"/>.</summary>
    [Alias("Forget")]
    Task ForgetAsync(Guid viewer);

    /// <summary>The partitions whose streams at least one viewer with a live lease watches.</summary>
    [Alias("GetWatchedPartitions")]
    Task<int[]> GetWatchedPartitionsAsync();
}
