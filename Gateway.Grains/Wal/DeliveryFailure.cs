namespace Gateway.Wal;

/// <summary>How a failed batch is written back to the WAL.</summary>
/// <param name="Error">Why it failed, kept as the records' last (and maybe first) error.</param>
/// <param name="Permanent">The sink will never take these records: dead-letter them now.</param>
/// <param name="NextAttemptAt">When the partition tries again.</param>
/// <param name="MaxAttempts">Attempts after which a record is dead-lettered.</param>
/// <param name="DeadIfReceivedBefore">Records received before this are dead-lettered (maximum age).</param>
public sealed record DeliveryFailure(
    string Error,
    bool Permanent,
    DateTimeOffset NextAttemptAt,
    int MaxAttempts,
    DateTimeOffset DeadIfReceivedBefore)
{
    /// <summary>The error of a record that outlived its lane's time to live without being delivered.</summary>
    public const string Expired = "expired";
}
