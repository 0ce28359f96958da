namespace Gateway.Wal.Sqlite;

/// <summary>
/// How long a commit that syncs waits for company before it starts. On a disk whose sync is fast, the writer commits
/// as soon as one append arrives, so at a thousand devices a second each sync carries two or three messages and each
/// rewrites the journal's last, partly filled page. Waiting <see cref="WalOptions.CommitLinger"/> lets more appends
/// share the sync, but it is only worth it when company is expected within the wait: the writer lingers only while
/// the rate of durable operations in the last second predicts at least one more in it, and only for a small batch (a
/// batch of <see cref="EnoughCompany"/> or more already shares its sync well). At a hundred messages a second, and
/// flat out, nothing waits. Only the writer thread uses this.
/// </summary>
internal sealed class CommitLinger(TimeSpan linger)
{
    /// <summary>A batch this large commits at once.</summary>
    public const int EnoughCompany = 16;

    private const long RateWindowMs = 1000;

    private long _windowStartMs = long.MinValue;
    private int _windowOperations;
    private double _operationsPerMs;

    /// <summary>Counts the durable operations of a commit that started at <paramref name="nowMs"/>.</summary>
    public void Observe(int durableOperations, long nowMs)
    {
        if (_windowStartMs == long.MinValue)
        {
            _windowStartMs = nowMs;
        }
        else if (nowMs - _windowStartMs >= RateWindowMs)
        {
            _operationsPerMs = _windowOperations / (double)(nowMs - _windowStartMs);
            _windowStartMs = nowMs;
            _windowOperations = 0;
        }

        _windowOperations += durableOperations;
    }

    /// <summary>How long a commit that syncs and holds <paramref name="batchOperations"/> operations waits; zero for none.</summary>
    public TimeSpan WaitFor(int batchOperations) =>
        linger > TimeSpan.Zero && batchOperations < EnoughCompany && _operationsPerMs * linger.TotalMilliseconds >= 1
            ? linger
            : TimeSpan.Zero;
}
