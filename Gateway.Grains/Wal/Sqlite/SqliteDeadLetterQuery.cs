using System.Text;
using System.Text.Json;
using Gateway.DeadLetters;
using Microsoft.Data.Sqlite;

namespace Gateway.Wal.Sqlite;

/// <summary>
/// The SQL condition selecting the dead deliveries a <see cref="DeadLetterFilter"/> names. It starts from
/// the partial index of Dead deliveries, so its cost follows the number of dead letters, not the WAL's size.
/// </summary>
internal static class SqliteDeadLetterQuery
{
    /// <summary>A subquery of the matching delivery ids, with its parameters added to <paramref name="command"/>.</summary>
    public static string MatchingIds(SqliteCommand command, DeadLetterFilter filter)
    {
        var sql = new StringBuilder("SELECT d.id FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq WHERE d.state = 3");
        Append(sql, command, filter);
        return sql.ToString();
    }

    /// <summary>Adds the filter's conditions on <c>d</c> (delivery) and <c>m</c> (message) to a query.</summary>
    public static void Append(StringBuilder sql, SqliteCommand command, DeadLetterFilter filter)
    {
        if (filter.Sink is not null)
        {
            sql.Append(" AND d.sink = $sink");
            command.Parameters.AddWithValue("$sink", filter.Sink);
        }

        if (filter.DeviceId is not null)
        {
            sql.Append(" AND m.device_id = $device_id");
            command.Parameters.AddWithValue("$device_id", filter.DeviceId);
        }

        if (filter.ReceivedFrom is { } from)
        {
            sql.Append(" AND m.received_at >= $from");
            command.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        }

        if (filter.ReceivedBefore is { } before)
        {
            sql.Append(" AND m.received_at < $before");
            command.Parameters.AddWithValue("$before", before.ToUnixTimeMilliseconds());
        }

        if (filter.MessageIds is { } ids)
        {
            sql.Append(" AND m.message_id IN (SELECT value FROM json_each($message_ids))");
            command.Parameters.AddWithValue("$message_ids", JsonSerializer.Serialize(ids));
        }
    }
}
