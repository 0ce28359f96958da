using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Ingest.Credentials;

/// <summary>Registers the credential check every ingest transport shares, with its one throttle.</summary>
public static class DeviceCredentialsExtensions
{
    // Keys that lived under Gateway:Mqtt before HTTP shared the throttle: a gateway that still has one would silently
    // run with the default, so it stops and says where the key went.
    private static readonly string[] MovedKeys = ["MaxFailedAuthentications", "FailedAuthenticationWindow"];

    /// <summary>Adds <see cref="DeviceCredentialCheck"/> (configuration under <c>Gateway:Authentication</c>); safe to call from each transport.</summary>
    public static IServiceCollection AddDeviceCredentials(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(service => service.ServiceType == typeof(DeviceCredentialCheck)))
        {
            return services;
        }

        services.AddOptions<DeviceAuthenticationOptions>().BindConfiguration(DeviceAuthenticationOptions.Section).ValidateDataAnnotations()
            .Validate<IConfiguration>((_, configuration) => MovedKeys.All(key => configuration[$"Gateway:Mqtt:{key}"] is null),
                "Gateway:Mqtt:MaxFailedAuthentications and Gateway:Mqtt:FailedAuthenticationWindow are now Gateway:Authentication:MaxFailedAuthentications and "
                + "Gateway:Authentication:FailedAuthenticationWindow (one throttle for MQTT and HTTP); rename the setting.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);

        // One throttle for all transports: a guesser gains nothing by switching from MQTT to HTTP.
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<DeviceAuthenticationOptions>>().Value;
            return new AuthenticationThrottle(sp.GetRequiredService<TimeProvider>(), options.MaxFailedAuthentications, options.FailedAuthenticationWindow);
        });
        services.TryAddSingleton<DeviceCredentialCheck>();
        return services;
    }
}
