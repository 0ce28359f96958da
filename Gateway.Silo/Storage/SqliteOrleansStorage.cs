using Gateway.Cluster;
using Gateway.Storage;
using Orleans.Configuration;
using Orleans.Providers;

namespace Gateway.Silo.Storage;

/// <summary>
/// Orleans grain state and durable reminders in the gateway's SQLite file, through Orleans' ADO.NET
/// providers, with the schema and queries this project owns (Storage/Scripts).
/// </summary>
public static class SqliteOrleansStorage
{
    /// <summary>The ADO.NET invariant Orleans maps to Microsoft.Data.Sqlite's factory.</summary>
    public const string Invariant = "System.Data.SQLite";

    /// <summary>Schema component name of the Orleans tables.</summary>
    public const string SchemaComponent = "orleans";

    /// <summary>
    /// Adds the gateway's Orleans storage for the configured mode (<c>Gateway:Cluster:Mode</c>): the SQLite file
    /// by default, or clustering, grain state and reminders on PostgreSQL in cluster mode.
    /// </summary>
    public static ISiloBuilder AddGatewayStorage(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Configuration.GetSection(GatewayClusterOptions.Section).Get<GatewayClusterOptions>()?.IsCluster == true
            ? builder.AddPostgreSqlOrleansStorage()
            : builder.AddSqliteOrleansStorage();
    }

    /// <summary>Adds grain storage <see cref="StorageNames.Gateway"/> (and the stream subscriptions' PubSubStore) and the reminder service on SQLite.</summary>
    public static ISiloBuilder AddSqliteOrleansStorage(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, OrleansSchemaLifecycle>();
        foreach (var name in new[] { StorageNames.Gateway, ProviderConstants.DEFAULT_PUBSUB_PROVIDER_NAME })
        {
            // Stream subscriptions (live tails) are kept beside the grain state, in the same file.
            builder.AddAdoNetGrainStorage(name, options => options.Configure<SqliteDatabase>((storage, database) =>
            {
                storage.Invariant = Invariant;
                storage.ConnectionString = database.ConnectionString;
            }));
        }

        builder.UseAdoNetReminderService(options => options.Configure<SqliteDatabase>((reminders, database) =>
        {
            reminders.Invariant = Invariant;
            reminders.ConnectionString = database.ConnectionString;
        }));
        return builder;
    }

    /// <summary>Creates or upgrades the Orleans tables before any storage provider reads its queries.</summary>
    private sealed class OrleansSchemaLifecycle(SqliteDatabase database) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(OrleansSchemaLifecycle), ServiceLifecycleStage.RuntimeInitialize - 1, _ =>
            {
                SqliteSchemaMigrator.Apply(database, typeof(SqliteOrleansStorage).Assembly, SchemaComponent);
                return Task.CompletedTask;
            });
    }
}
