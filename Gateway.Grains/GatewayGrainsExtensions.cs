using Gateway.Cluster;
using Gateway.Devices;
using Gateway.Lanes;
using Gateway.Partitions;
using Gateway.Routing;
using Gateway.Sinks;
using Gateway.Storage;
using Gateway.Tail;
using Gateway.Telemetry;
using Gateway.Wal;
using Gateway.Wal.PostgreSql;
using Gateway.Wal.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway;

/// <summary>Registers the grains' services: options, the WAL (SQLite, or PostgreSQL in cluster mode), routing, sinks and background work.</summary>
public static class GatewayGrainsExtensions
{
    private const int TailQueues = 2;
    private static readonly TimeSpan TailPollPeriod = TimeSpan.FromSeconds(1);

    /// <summary>Adds the gateway's grain-side services to a silo.</summary>
    public static ISiloBuilder AddGatewayGrains(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddGatewayGrains();
        builder.AddStartupTask<PendingPartitionsStartupTask>();
        // Live tails ride memory streams: best effort by design (the WAL is the durable record), few queues polled
        // once a second so an idle gateway polls little (Orleans' default, every 100 ms, was a tenth of its idle CPU);
        // a person watching a tail does not see the second. Subscriptions live in the grain storage named PubSubStore.
        builder.AddMemoryStreams(TailStreams.Provider, streams =>
        {
            streams.ConfigurePartitioning(TailQueues);
            streams.ConfigurePullingAgent(agent => agent.Configure(options => options.GetQueueMsgsTimerPeriod = TailPollPeriod));
        });
        if (builder.Configuration.GetSection(GatewayClusterOptions.Section).Get<GatewayClusterOptions>()?.IsCluster == true)
        {
            builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, FailoverWaker>();
        }

        return builder;
    }

    /// <summary>Adds the gateway's grain-side services.</summary>
    public static IServiceCollection AddGatewayGrains(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddValidatedOptions<GatewayOptions>(GatewayOptions.Section);
        services.AddValidatedOptions<WalOptions>(WalOptions.Section);
        services.AddValidatedOptions<DeviceOptions>(DeviceOptions.Section);
        services.AddValidatedOptions<DeliveryOptions>(DeliveryOptions.Section);
        services.AddValidatedOptions<GatewayClusterOptions>(GatewayClusterOptions.Section);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayClusterOptions>, GatewayClusterOptionsValidator>());
        services.AddOptions<SinkListOptions>().BindConfiguration(GatewayOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SinkListOptions>, SinkListOptionsValidator>());
        services.AddOptions<LaneListOptions>().BindConfiguration(GatewayOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LaneListOptions>, LaneListOptionsValidator>());
        services.TryAddSingleton(sp => LaneCatalog.FromOptions(sp.GetRequiredService<IOptions<LaneListOptions>>()));
        services.TryAddSingleton<LaneActivity>();

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<GatewayMetrics>();
        services.TryAddSingleton<BackingOffPartitions>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, GatewayGauges>();
        services.TryAddSingleton(sp => new SqliteDatabase(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.DataPath));
        services.TryAddSingleton(sp => SinkCatalog.FromOptions(
            sp.GetRequiredService<IOptions<SinkListOptions>>(), sp.GetRequiredService<IOptions<GatewayOptions>>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<PartitionWaker>();
        services.TryAddSingleton<IWalCommitListener>(sp => sp.GetRequiredService<PartitionWaker>());
        services.TryAddSingleton<PendingPartitionWaker>();
        services.TryAddSingleton(sp => new PostgreSqlDatabase(sp.GetRequiredService<IOptions<GatewayClusterOptions>>().Value.ConnectionString!));
        services.TryAddSingleton<SqliteWalStore>();
        services.TryAddSingleton<PostgreSqlWalStore>();
        // The one seam between the modes: which store the grains, ingest and readiness get.
        services.TryAddSingleton<IOpenableWalStore>(sp => sp.GetRequiredService<IOptions<GatewayClusterOptions>>().Value.IsCluster
            ? sp.GetRequiredService<PostgreSqlWalStore>()
            : sp.GetRequiredService<SqliteWalStore>());
        services.TryAddSingleton<IWalStore>(sp => sp.GetRequiredService<IOpenableWalStore>());
        services.TryAddSingleton<IDeliveryLog>(sp => sp.GetRequiredService<IOpenableWalStore>());
        services.TryAddSingleton<IWalAdmin>(sp => sp.GetRequiredService<IOpenableWalStore>());
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, WalLifecycle>();
        services.TryAddSingleton<IngestPressure>();
        services.TryAddSingleton<TailInterest>();
        services.AddHostedService<TailInterestRefresher>();
        services.TryAddSingleton(sp => new PartitionRouter(
            sp.GetRequiredService<SinkCatalog>().Routes, sp.GetRequiredService<IOptions<DeliveryOptions>>()));
        services.AddHostedService<WalCompactionService>();
        return services;
    }

    private static void AddValidatedOptions<T>(this IServiceCollection services, string section)
        where T : class =>
        services.AddOptions<T>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();
}
