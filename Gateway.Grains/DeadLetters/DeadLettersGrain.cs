using Gateway.Wal;
using Orleans.Concurrency;

namespace Gateway.DeadLetters;

/// <summary>
/// Operator actions on dead letters. Stateless: any silo's activation works on the shared WAL, and a
/// replay wakes the partitions that got their records back.
/// </summary>
[StatelessWorker]
public sealed class DeadLettersGrain(IWalAdmin wal) : Grain, IDeadLettersGrain
{
    private const int MaxPage = 1000;

    /// <inheritdoc />
    public Task<IReadOnlyList<DeadLetter>> ListAsync(DeadLetterFilter filter, long after, int limit) =>
        wal.ListDeadAsync(filter, after, Math.Clamp(limit, 1, MaxPage));

    /// <inheritdoc />
    public async Task<int> ReplayAsync(DeadLetterFilter filter) =>
        // The commit wakes the partitions the records went back to, as an append's does.
        (await wal.ReplayDeadAsync(filter)).Count;

    /// <inheritdoc />
    public Task<int> PurgeAsync(DeadLetterFilter filter) => wal.PurgeDeadAsync(filter);
}
