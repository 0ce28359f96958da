using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Gateway.Partitions;

/// <summary>
/// Cluster mode: when a silo is declared dead, wakes every partition that holds pending records. The dead
/// silo's partition grains are activated again on the survivors at once (their activation returns the records
/// the dead silo had in flight to the queue), instead of at the next reminder tick. Every survivor does it;
/// a wake-up is idempotent, so the duplicates cost a few one-way calls.
/// </summary>
public sealed partial class FailoverWaker(
    IClusterMembershipService membership,
    PendingPartitionWaker waker,
    ILogger<FailoverWaker> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private CancellationTokenSource? _stop;
    private Task? _watch;

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(FailoverWaker), ServiceLifecycleStage.Active, Start, Stop);
    }

    private Task Start(CancellationToken cancellationToken)
    {
        _stop = new CancellationTokenSource();
        _watch = Task.Run(() => WatchAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task Stop(CancellationToken cancellationToken)
    {
        if (_stop is null || _watch is null)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _watch.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped on purpose.
        }

        _stop.Dispose();
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        var dead = new HashSet<SiloAddress>();
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Dead)
            {
                dead.Add(member.SiloAddress);
            }
        }

        await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var newlyDead = new List<SiloAddress>();
            foreach (var member in snapshot.Members.Values)
            {
                if (member.Status == SiloStatus.Dead && dead.Add(member.SiloAddress))
                {
                    newlyDead.Add(member.SiloAddress);
                }
            }

            if (newlyDead.Count > 0)
            {
                await WakePendingAsync(newlyDead, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task WakePendingAsync(List<SiloAddress> deadSilos, CancellationToken cancellationToken)
    {
        LogWaking(logger, string.Join(", ", deadSilos));
        try
        {
            await waker.WakeAllAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // The partitions' reminders still fire on the survivors; this only makes failover faster.
            LogWakeFailed(logger, error);
        }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Silo {Silos} died; waking the partitions with pending records")]
    private static partial void LogWaking(ILogger logger, string silos);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Waking partitions after a silo died failed; their reminders will wake them")]
    private static partial void LogWakeFailed(ILogger logger, Exception error);
}
