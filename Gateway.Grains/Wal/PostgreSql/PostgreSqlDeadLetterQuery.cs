using System.Text;
using Gateway.DeadLetters;
using Npgsql;

namespace Gateway.Wal.PostgreSql;

/// <summary>
/// The PostgreSQL form of <see cref="SqliteDeadLetterQuery"/>: the dead deliveries a <see cref="DeadLetterFilter"/>
/// names, with positional parameters appended to the command's own.
/// </summary>
internal static class PostgreSqlDeadLetterQuery
{
    /// <summary>A subquery of the matching delivery ids.</summary>
    public static string MatchingIds(NpgsqlBatchCommand command, DeadLetterFilter filter)
    {
        var sql = new StringBuilder("SELECT d.id FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq WHERE d.state = 3");
        Append(sql, command.Parameters, filter);
        return sql.ToString();
    }

    /// <summary>Adds the filter's conditions on <c>d</c> (delivery) and <c>m</c> (message) to a query.</summary>
    public static void Append(StringBuilder sql, NpgsqlParameterCollection parameters, DeadLetterFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.Sink is not null)
        {
            sql.Append(" AND d.sink = ").Append(Add(parameters, new NpgsqlParameter<string> { TypedValue = filter.Sink }));
        }

        if (filter.DeviceId is not null)
        {
            sql.Append(" AND m.device_id = ").Append(Add(parameters, new NpgsqlParameter<string> { TypedValue = filter.DeviceId }));
        }

        if (filter.ReceivedFrom is { } from)
        {
            sql.Append(" AND m.received_at >= ").Append(Add(parameters, new NpgsqlParameter<long> { TypedValue = from.ToUnixTimeMilliseconds() }));
        }

        if (filter.ReceivedBefore is { } before)
        {
            sql.Append(" AND m.received_at < ").Append(Add(parameters, new NpgsqlParameter<long> { TypedValue = before.ToUnixTimeMilliseconds() }));
        }

        if (filter.MessageIds is { } ids)
        {
            sql.Append(" AND m.message_id = ANY(").Append(Add(parameters, new NpgsqlParameter<string[]> { TypedValue = [.. ids] })).Append(')');
        }
    }

    private static string Add(NpgsqlParameterCollection parameters, NpgsqlParameter parameter)
    {
        parameters.Add(parameter);
        return "$" + parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
