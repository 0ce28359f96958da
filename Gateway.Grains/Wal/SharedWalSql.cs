namespace Gateway.Wal;

/// <summary>Statements both stores run word for word: the same text is valid SQLite and PostgreSQL.</summary>
internal static class SharedWalSql
{
    /// <summary>Partitions holding Enqueued or InFlight records, each state read from its own partial index.</summary>
    public const string PendingPartitions = """
        SELECT DISTINCT sink, partition FROM wal_delivery WHERE state = 0
        UNION
        SELECT DISTINCT sink, partition FROM wal_delivery WHERE state = 1
        """;
}
