using Gateway.Devices;
using Gateway.Partitions;
using Gateway.Routing;
using Gateway.Sinks;
using Gateway.Storage;
using Gateway.Tail;
using Gateway.Telemetry;
using Gateway.Wal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway;

/// <summary>Registers the grains' services: options, the SQLite WAL, routing, sinks and background work.</summary>
public static class GatewayGrainsExtensions
{
    private const int TailQueues = 2;

    /// <summary>Adds the gateway's grain-side services to a silo.</summary>
    public static ISiloBuilder AddGatewayGrains(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddGatewayGrains();
        builder.AddStartupTask<PendingPartitionsStartupTask>();
        // Live tails ride memory streams: best effort by design (the WAL is the durable record), few queues so an
        // idle gateway polls little. Subscriptions live in the grain storage named PubSubStore.
        builder.AddMemoryStreams(TailStreams.Provider, streams => streams.ConfigurePartitioning(TailQueues));
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
        services.AddOptions<SinkListOptions>().BindConfiguration(GatewayOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SinkListOptions>, SinkListOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<GatewayMetrics>();
        services.TryAddSingleton<BackingOffPartitions>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, GatewayGauges>();
        services.TryAddSingleton(sp => new SqliteDatabase(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.DataPath));
        services.TryAddSingleton(sp => SinkCatalog.FromOptions(
            sp.GetRequiredService<IOptions<SinkListOptions>>(), sp.GetRequiredService<IOptions<GatewayOptions>>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IWalCommitListener, PartitionWaker>();
        services.TryAddSingleton<SqliteWalStore>();
        services.TryAddSingleton<IWalStore>(sp => sp.GetRequiredService<SqliteWalStore>());
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
