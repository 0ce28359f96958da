namespace Gateway.Wal.PostgreSql;

/// <summary>
/// PostgreSQL answered a synchronous commit with a warning: the commit may be on the primary alone (its wait for the
/// synchronous standby was cancelled). Its outcome is unknown, so its operations fail and nothing of it is acknowledged.
/// </summary>
public sealed class WalCommitNotConfirmedException(string warning)
    : Exception($"The WAL commit was not confirmed as durable: PostgreSQL warned \"{warning}\"; nothing of it is acknowledged.");
