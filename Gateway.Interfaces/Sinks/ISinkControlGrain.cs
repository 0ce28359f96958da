using Orleans.Concurrency;

namespace Gateway.Sinks;

/// <summary>
/// An operator's hold on one sink, keyed by sink name: while paused its partitions lease nothing, so nothing
/// is sent and nothing is lost; the records wait in the WAL. Persisted, so a pause survives a restart.
/// </summary>
[Alias("Gateway.ISinkControlGrain")]
public interface ISinkControlGrain : IGrainWithStringKey
{
    /// <summary>Pauses the sink and tells its partitions; returns after the pause is stored.</summary>
    [Alias("PauseAsync")]
    Task PauseAsync();

    /// <summary>Resumes the sink and wakes its partitions; returns after the change is stored.</summary>
    [Alias("ResumeAsync")]
    Task ResumeAsync();

    /// <summary>True while the sink is paused. Interleaves: a partition activated by a pause asks it meanwhile.</summary>
    [AlwaysInterleave, Alias("IsPausedAsync")]
    Task<bool> IsPausedAsync();
}
