using System.Globalization;
using System.Reflection;
using Microsoft.Data.Sqlite;

namespace Gateway.Storage;

/// <summary>
/// Applies the project's embedded SQL scripts to the SQLite file, once each, in order: a component
/// (<c>orleans</c>, <c>wal</c>) owns scripts named <c>Gateway.Sql.{component}.{NNNN}-{name}.sql</c>, and
/// the highest version applied is recorded per component, so a restart or a second caller changes nothing.
/// </summary>
public static class SqliteSchemaMigrator
{
    private const string ResourcePrefix = "Gateway.Sql.";

    /// <summary>Applies the scripts of <paramref name="component"/> found in <paramref name="assembly"/>.</summary>
    /// <returns>How many scripts were applied now.</returns>
    public static int Apply(SqliteDatabase database, Assembly assembly, string component)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentException.ThrowIfNullOrWhiteSpace(component);

        var scripts = EmbeddedSqlScripts.Find(assembly, ResourcePrefix, component);
        using var connection = database.Open();
        Execute(connection, null, """
            CREATE TABLE IF NOT EXISTS gateway_schema (
                component  TEXT PRIMARY KEY,
                version    INTEGER NOT NULL,
                applied_at TEXT NOT NULL
            );
            """);

        // BEGIN IMMEDIATE takes the write lock first, so two processes starting on one file apply each script once.
        using var transaction = connection.BeginTransaction(deferred: false);
        var current = CurrentVersion(connection, transaction, component);
        var applied = 0;
        foreach (var (version, resource) in scripts)
        {
            if (version <= current)
            {
                continue;
            }

            Execute(connection, transaction, EmbeddedSqlScripts.Read(assembly, resource));
            using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = """
                INSERT INTO gateway_schema (component, version, applied_at) VALUES ($component, $version, $at)
                ON CONFLICT(component) DO UPDATE SET version = excluded.version, applied_at = excluded.applied_at;
                """;
            record.Parameters.AddWithValue("$component", component);
            record.Parameters.AddWithValue("$version", version);
            record.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            record.ExecuteNonQuery();
            applied++;
        }

        transaction.Commit();
        return applied;
    }

    private static long CurrentVersion(SqliteConnection connection, SqliteTransaction transaction, string component)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT version FROM gateway_schema WHERE component = $component";
        command.Parameters.AddWithValue("$component", component);
        return command.ExecuteScalar() is long version ? version : 0;
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
