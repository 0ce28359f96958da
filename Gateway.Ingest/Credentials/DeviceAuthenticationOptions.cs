using System.ComponentModel.DataAnnotations;

namespace Gateway.Ingest.Credentials;

/// <summary>Settings under <c>Gateway:Authentication</c>: the device credential rules every ingest transport shares.</summary>
public sealed class DeviceAuthenticationOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gateway:Authentication";

    /// <summary>
    /// Failed secret checks one IP address may cause within <see cref="FailedAuthenticationWindow"/>, over MQTT and HTTP
    /// together; past it the address is refused without a check.
    /// </summary>
    [Range(1, 100_000, ErrorMessage = "Gateway:Authentication:MaxFailedAuthentications must be between 1 and 100000.")]
    public int MaxFailedAuthentications { get; set; } = 10;

    /// <summary>The sliding window <see cref="MaxFailedAuthentications"/> counts over.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Gateway:Authentication:FailedAuthenticationWindow must be between 1 second and 1 day.")]
    public TimeSpan FailedAuthenticationWindow { get; set; } = TimeSpan.FromMinutes(1);
}
