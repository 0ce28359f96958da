using System.ComponentModel.DataAnnotations;

namespace Gateway.Silo.Hosting;

/// <summary>Settings under <c>Gateway:Orleans</c>: the silo's identity and ports.</summary>
public sealed class OrleansHostOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gateway:Orleans";

    /// <summary>Port silos talk to each other on.</summary>
    [Range(1, 65535, ErrorMessage = "Gateway:Orleans:SiloPort must be between 1 and 65535.")]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port Orleans clients connect to.</summary>
    [Range(1, 65535, ErrorMessage = "Gateway:Orleans:GatewayPort must be between 1 and 65535.")]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// Cluster mode: the address other nodes reach this silo on (this Pi's LAN address). Empty picks the host's
    /// first address. A loopback address also keeps the silo listening on loopback only.
    /// </summary>
    [RegularExpression(@"^[0-9A-Fa-f:.]*$", ErrorMessage = "Gateway:Orleans:AdvertisedAddress must be an IP address.")]
    public string? AdvertisedAddress { get; set; }

    /// <summary>Orleans cluster id.</summary>
    [Required(ErrorMessage = "Gateway:Orleans:ClusterId must not be empty.")]
    public string ClusterId { get; set; } = "gateway";

    /// <summary>Orleans service id; grain state and reminders are stored under it, so keep it stable.</summary>
    [Required(ErrorMessage = "Gateway:Orleans:ServiceId must not be empty.")]
    public string ServiceId { get; set; } = "gateway";

    /// <summary>
    /// Grain locations a silo caches for calls to grains that another silo hosts. Orleans' own default, 1,000,000,
    /// allocates about 9 MB up front, even on a single silo that never looks anything up remotely.
    /// </summary>
    [Range(1000, 10_000_000, ErrorMessage = "Gateway:Orleans:DirectoryCacheSize must be between 1000 and 10000000.")]
    public int DirectoryCacheSize { get; set; } = 100_000;
}
