using System.Reflection;
using Gateway.Storage;
using Npgsql;

namespace Gateway.Cluster;

/// <summary>
/// Applies a component's embedded PostgreSQL scripts (<c>Gateway.PostgreSql.{component}.{NNNN}-{name}.sql</c>)
/// once each, in order, recording the highest version per component. A transaction-scoped advisory lock makes
/// the nodes of a cluster that start together apply each script exactly once.
/// </summary>
public static class PostgreSqlSchemaMigrator
{
    private const string ResourcePrefix = "Gateway.PostgreSql.";

    // Any constant works; it only has to be the same on every node and distinct from other advisory locks.
    private const long MigrationLock = 0x47_41_54_45_57_41_59;

    /// <summary>Applies the scripts of <paramref name="component"/> found in <paramref name="assembly"/>; returns how many ran now.</summary>
    public static async Task<int> ApplyAsync(PostgreSqlDatabase database, Assembly assembly, string component, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        var scripts = EmbeddedSqlScripts.Find(assembly, ResourcePrefix, component);
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"""
            SELECT pg_advisory_xact_lock({MigrationLock});
            CREATE TABLE IF NOT EXISTS gateway_schema (
                component  text PRIMARY KEY,
                version    integer NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            """, cancellationToken).ConfigureAwait(false);

        await using var read = new NpgsqlCommand("SELECT version FROM gateway_schema WHERE component = $1", connection, transaction);
        read.Parameters.Add(new NpgsqlParameter<string> { TypedValue = component });
        var current = await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is int version ? version : 0;
        var applied = 0;
        foreach (var (scriptVersion, resource) in scripts)
        {
            if (scriptVersion <= current)
            {
                continue;
            }

            await ExecuteAsync(connection, transaction, EmbeddedSqlScripts.Read(assembly, resource), cancellationToken).ConfigureAwait(false);
            await using var record = new NpgsqlCommand("""
                INSERT INTO gateway_schema (component, version) VALUES ($1, $2)
                ON CONFLICT (component) DO UPDATE SET version = excluded.version, applied_at = now()
                """, connection, transaction);
            record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = component });
            record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = scriptVersion });
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            applied++;
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
