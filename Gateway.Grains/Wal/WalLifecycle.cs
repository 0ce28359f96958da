using Orleans.Runtime;

namespace Gateway.Wal;

/// <summary>
/// Opens the WAL before any grain can run and closes it after the last grain has deactivated, so no
/// grain ever sees a closed WAL during a graceful stop.
/// </summary>
internal sealed class WalLifecycle(IOpenableWalStore store) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(
            nameof(WalLifecycle),
            ServiceLifecycleStage.RuntimeInitialize,
            _ =>
            {
                store.Open();
                return Task.CompletedTask;
            },
            _ =>
            {
                store.Dispose();
                return Task.CompletedTask;
            });
}
