namespace Gateway.Wal.Sqlite;

/// <summary>
/// A device's stored messages, found without an index written by the append: <c>wal_device_message</c> holds the
/// (device, sequence) entries of the messages up to <c>wal_device_index.indexed_through</c>, and the messages above
/// it, the tail that a later commit indexes in one batch (<see cref="UnindexedMessages"/>), are read from
/// <c>wal_message</c> by their rowid. Both halves in one statement read one snapshot, so a read by device is exact
/// whether or not the batch has been written.
/// </summary>
internal static class SqliteDeviceMessages
{
    /// <summary>The condition on <c>wal_message</c> that selects its tail not indexed yet.</summary>
    public const string Unindexed = "seq > (SELECT indexed_through FROM wal_device_index)";

    /// <summary>Writes the entries of the tail, in key order, and moves the mark past it.</summary>
    public const string IndexTail = $"""
        INSERT INTO wal_device_message (device_id, device_sequence, seq)
        SELECT device_id, device_sequence, seq FROM wal_message WHERE {Unindexed}
        ORDER BY device_id, device_sequence
        ON CONFLICT DO NOTHING;
        UPDATE wal_device_index SET indexed_through = coalesce((SELECT max(seq) FROM wal_message), indexed_through);
        """;

    /// <summary>Removes the entry of a deleted message.</summary>
    public const string Unindex = "DELETE FROM wal_device_message WHERE device_id = $device_id AND device_sequence = $sequence";

    /// <summary>
    /// After messages were deleted: a rowid above the highest left is handed out again (no AUTOINCREMENT), so the mark
    /// comes down to it, or a message stored later could land at or below the mark, where no read would look for it.
    /// </summary>
    public const string LowerMark = "UPDATE wal_device_index SET indexed_through = min(indexed_through, coalesce((SELECT max(seq) FROM wal_message), 0))";

    /// <summary>
    /// A subquery of <c>(seq, device_sequence)</c>: the stored messages of the device <paramref name="deviceParameter"/>
    /// names, those whose <c>device_sequence</c> meets <paramref name="sequenceCondition"/> when one is given (in both
    /// halves, so the index half reads only that range of its key).
    /// </summary>
    public static string Of(string deviceParameter, string sequenceCondition = "1") => $"""
        (SELECT seq, device_sequence FROM wal_device_message WHERE device_id = {deviceParameter} AND {sequenceCondition}
         UNION ALL
         SELECT seq, device_sequence FROM wal_message WHERE {Unindexed} AND device_id = {deviceParameter} AND {sequenceCondition})
        """;
}
