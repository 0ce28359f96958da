using Orleans.Concurrency;

namespace Gateway.Partitions;

/// <summary>
/// One outbound partition of one sink: sends its WAL records in order, retries with backoff,
/// dead-letters what cannot be delivered. Keyed by <see cref="PartitionKey"/>.
/// </summary>
[Alias("Gateway.IPartitionGrain")]
public interface IPartitionGrain : IGrainWithStringKey
{
    /// <summary>New records may be waiting: start draining unless a retry backoff is running.</summary>
    [OneWay, Alias("WakeAsync")]
    Task WakeAsync();

    /// <summary>The sink's circuit closed: a partition that was waiting on it sends again now.</summary>
    [OneWay, Alias("CircuitClosedAsync")]
    Task CircuitClosedAsync();

    /// <summary>The partition's delivery state as the admin API and tests see it.</summary>
    [Alias("GetStatusAsync")]
    Task<PartitionStatus> GetStatusAsync();

    /// <summary>
    /// The sink was paused (lease nothing more) or resumed (send what is waiting). Interleaves with a send in
    /// progress, so a pause is not held up by a slow sink; that batch finishes, nothing after it is leased.
    /// </summary>
    [AlwaysInterleave, Alias("SetPausedAsync")]
    Task SetPausedAsync(bool paused);
}
