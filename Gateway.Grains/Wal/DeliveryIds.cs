namespace Gateway.Wal;

/// <summary>
/// How the SQLite WAL numbers deliveries: a message's deliveries take the ids <c>seq * 256 + route</c>, so they are
/// found from the message by a range of the table's own key, with no index of their own to write at every append, and
/// ids still follow WAL order (leases and dead-letter pages go by id).
/// </summary>
internal static class DeliveryIds
{
    /// <summary>The most deliveries one message can have: the most sinks a gateway may configure.</summary>
    public const int PerMessage = 256;

    /// <summary>The id of the message's delivery through its route number <paramref name="route"/>.</summary>
    public static long Of(long messageSeq, int route)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(route, PerMessage);
        return messageSeq * PerMessage + route;
    }

    /// <summary>SQL that is true when <paramref name="id"/> is one of the deliveries of the message <paramref name="seq"/>.</summary>
    public static string BelongsTo(string id, string seq) => $"{id} BETWEEN {seq} * {PerMessage} AND {seq} * {PerMessage} + {PerMessage - 1}";
}
