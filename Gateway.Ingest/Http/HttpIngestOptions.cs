using System.ComponentModel.DataAnnotations;

namespace Gateway.Ingest.Http;

/// <summary>Settings under <c>Gateway:Http</c>: the HTTP ingest listener and its request limits.</summary>
public sealed class HttpIngestOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gateway:Http";

    /// <summary>TCP port of the ingest listener.</summary>
    [Range(1, 65535, ErrorMessage = "Gateway:Http:Port must be between 1 and 65535.")]
    public int Port { get; set; } = 8080;

    /// <summary>
    /// Address the ingest listener binds to. Loopback by default: until device credentials are configured,
    /// only local senders are trusted.
    /// </summary>
    [Required, RegularExpression(@"^[0-9A-Fa-f:.]+$", ErrorMessage = "Gateway:Http:BindAddress must be an IP address.")]
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>Largest request body, in bytes; larger requests get 413.</summary>
    [Range(1, 64 * 1024 * 1024, ErrorMessage = "Gateway:Http:MaxRequestBytes must be between 1 and 67108864.")]
    public int MaxRequestBytes { get; set; } = 1024 * 1024;

    /// <summary>Most messages in one JSON array batch; more get 413.</summary>
    [Range(1, 100_000, ErrorMessage = "Gateway:Http:MaxBatchMessages must be between 1 and 100000.")]
    public int MaxBatchMessages { get; set; } = 1000;
}
