using Gateway.Ingest.Credentials;
using Gateway.Ingest.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Ingest.Mqtt;

/// <summary>Registers MQTT ingest: the embedded broker as a hosted service, with its options validated at start.</summary>
public static class MqttIngestExtensions
{
    /// <summary>Adds MQTT ingest to the host (configuration under <c>Gateway:Mqtt</c>).</summary>
    public static TBuilder AddMqttIngest<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddMqttIngest();
        return builder;
    }

    /// <summary>Adds MQTT ingest's services; the silo's <see cref="IGrainFactory"/> must be registered too.</summary>
    public static IServiceCollection AddMqttIngest(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<MqttIngestOptions>().BindConfiguration(MqttIngestOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MqttIngestOptions>, MqttIngestOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton<MqttIngestMetrics>();
        services.TryAddSingleton<IngestTelemetry>();
        services.TryAddSingleton<DeviceConnections>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddDeviceCredentials();
        services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<TelemetryPublishHandler>(sp, sp.GetRequiredService<IOptions<MqttIngestOptions>>().Value));
        services.TryAddSingleton<MqttIngestService>();
        services.AddHostedService(sp => sp.GetRequiredService<MqttIngestService>());
        return services;
    }
}
