namespace Gateway.Wal.PostgreSql;

/// <summary>Deliveries by state and pending payload bytes: a change a commit made, or a cluster-wide total.</summary>
internal readonly record struct WalCounts(long Enqueued, long InFlight, long Acked, long Dead, long PendingBytes)
{
    public bool IsZero => this == default;

    public static WalCounts operator +(WalCounts a, WalCounts b) =>
        new(a.Enqueued + b.Enqueued, a.InFlight + b.InFlight, a.Acked + b.Acked, a.Dead + b.Dead, a.PendingBytes + b.PendingBytes);
}
