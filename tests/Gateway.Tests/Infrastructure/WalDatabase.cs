using Microsoft.Data.Sqlite;

namespace Gateway.Tests.Infrastructure;

/// <summary>Reads the WAL tables directly, through its own read-only connection, to check what is durable.</summary>
public static class WalDatabase
{
    public static long Scalar(string databasePath, string sql, params (string Name, object Value)[] parameters) =>
        Convert.ToInt64(Query(databasePath, sql, parameters) ?? 0L, System.Globalization.CultureInfo.InvariantCulture);

    public static string? Text(string databasePath, string sql) => Query(databasePath, sql) as string;

    public static long CountDeliveries(string databasePath, string sink, int state) =>
        Scalar(databasePath, "SELECT count(*) FROM wal_delivery WHERE sink = $sink AND state = $state", ("$sink", sink), ("$state", state));

    private static object? Query(string databasePath, string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command.ExecuteScalar();
    }
}
