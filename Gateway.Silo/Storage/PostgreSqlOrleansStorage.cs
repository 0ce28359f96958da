using Gateway.Cluster;
using Gateway.Storage;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Providers;

namespace Gateway.Silo.Storage;

/// <summary>
/// Cluster mode: Orleans membership, grain state and durable reminders in the shared PostgreSQL database,
/// through Orleans' ADO.NET providers and Orleans' own PostgreSQL scripts (Storage/PostgreSql), which the
/// first node to start applies.
/// </summary>
public static partial class PostgreSqlOrleansStorage
{
    /// <summary>The ADO.NET invariant Orleans maps to Npgsql's factory.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>Schema component name of the Orleans tables.</summary>
    public const string SchemaComponent = "orleans";

    /// <summary>Adds clustering, grain storage <see cref="StorageNames.Gateway"/> and the reminder service on PostgreSQL.</summary>
    public static ISiloBuilder AddPostgreSqlOrleansStorage(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, ClusterDatabaseLifecycle>();
        builder.UseAdoNetClustering(options => options.Configure<PostgreSqlDatabase>((clustering, database) =>
        {
            clustering.Invariant = Invariant;
            clustering.ConnectionString = database.ConnectionString;
        }));
        foreach (var name in new[] { StorageNames.Gateway, ProviderConstants.DEFAULT_PUBSUB_PROVIDER_NAME })
        {
            // Stream subscriptions (live tails) are kept beside the grain state, so a tail works from any silo.
            builder.AddAdoNetGrainStorage(name, options => options.Configure<PostgreSqlDatabase>((storage, database) =>
            {
                storage.Invariant = Invariant;
                storage.ConnectionString = database.ConnectionString;
            }));
        }

        builder.UseAdoNetReminderService(options => options.Configure<PostgreSqlDatabase>((reminders, database) =>
        {
            reminders.Invariant = Invariant;
            reminders.ConnectionString = database.ConnectionString;
        }));
        return builder;
    }

    /// <summary>
    /// Before anything reads or writes the database: waits until it answers (bounded by
    /// <see cref="GatewayClusterOptions.DatabaseWaitTimeout"/>), then creates or upgrades the Orleans tables.
    /// </summary>
    private sealed partial class ClusterDatabaseLifecycle(
        PostgreSqlDatabase database,
        IOptions<GatewayClusterOptions> options,
        ILogger<ClusterDatabaseLifecycle> logger) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(ClusterDatabaseLifecycle), ServiceLifecycleStage.RuntimeInitialize - 1, async cancellationToken =>
            {
                LogConnecting(logger, database.Endpoint);
                await database.WaitUntilReachableAsync(options.Value.DatabaseWaitTimeout, logger, cancellationToken);
                await PostgreSqlSchemaMigrator.ApplyAsync(database, typeof(PostgreSqlOrleansStorage).Assembly, SchemaComponent, cancellationToken);
            });

        [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "Cluster mode: membership, grain state, reminders and the WAL are in PostgreSQL at {Endpoint}")]
        private static partial void LogConnecting(ILogger logger, string endpoint);
    }
}
