using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Options;

namespace Gateway.Ingest.Http;

/// <summary>Settings under <c>Gateway:Http</c>: the HTTP ingest listener and its request limits.</summary>
public sealed class HttpIngestOptions() : DeviceListenerOptions(Section, "HTTPS listener")
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gateway:Http";

    /// <summary>TCP port of the ingest listener.</summary>
    [Range(1, 65535, ErrorMessage = "Gateway:Http:Port must be between 1 and 65535.")]
    public int Port { get; set; } = 8080;

    /// <summary>
    /// Address the ingest listener binds to. Loopback by default; any other address needs
    /// <see cref="AllowAnonymous"/> off, so that every sender authenticates as its device.
    /// </summary>
    [Required, RegularExpression(@"^[0-9A-Fa-f:.]+$", ErrorMessage = "Gateway:Http:BindAddress must be an IP address.")]
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>TCP port of the HTTPS ingest listener, which runs when <see cref="CertificatePath"/> is set.</summary>
    [Range(1, 65535, ErrorMessage = "Gateway:Http:TlsPort must be between 1 and 65535.")]
    public int TlsPort { get; set; } = 8443;

    /// <summary>Address the HTTPS listener binds to; every interface, since devices authenticate on it.</summary>
    [Required, RegularExpression(@"^[0-9A-Fa-f:.]+$", ErrorMessage = "Gateway:Http:TlsBindAddress must be an IP address.")]
    public string TlsBindAddress { get; set; } = "0.0.0.0";

    /// <summary>Largest request body, in bytes; larger requests get 413.</summary>
    [Range(1, 64 * 1024 * 1024, ErrorMessage = "Gateway:Http:MaxRequestBytes must be between 1 and 67108864.")]
    public int MaxRequestBytes { get; set; } = 1024 * 1024;

    /// <summary>Most messages in one JSON array batch; more get 413.</summary>
    [Range(1, 100_000, ErrorMessage = "Gateway:Http:MaxBatchMessages must be between 1 and 100000.")]
    public int MaxBatchMessages { get; set; } = 1000;

    /// <summary>Most open HTTP connections, ingest and operations ports together; more wait in the accept queue and are then refused.</summary>
    [Range(1, 100_000, ErrorMessage = "Gateway:Http:MaxConnections must be between 1 and 100000.")]
    public int MaxConnections { get; set; } = 1000;

    /// <summary>Largest total size of a request's headers (and request line), in bytes; larger gets 431.</summary>
    [Range(1024, 1024 * 1024, ErrorMessage = "Gateway:Http:MaxRequestHeaderBytes must be between 1024 and 1048576.")]
    public int MaxRequestHeaderBytes { get; set; } = 16 * 1024;

    /// <summary>Most headers in one request; more gets 431.</summary>
    [Range(1, 1000, ErrorMessage = "Gateway:Http:MaxRequestHeaderCount must be between 1 and 1000.")]
    public int MaxRequestHeaderCount { get; set; } = 64;

    /// <summary>Longest a client may take to send a request's headers; a slower one (slowloris) gets 408 and is closed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00", ErrorMessage = "Gateway:Http:RequestHeadersTimeout must be between 1 second and 5 minutes.")]
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an idle keep-alive connection stays open; longer than clients' usual one-minute pool idle time, so the server never closes a connection a client is reusing.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Gateway:Http:KeepAliveTimeout must be between 1 second and 1 hour.")]
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(130);

    /// <summary>Slowest accepted request body, in bytes per second after <see cref="RequestBodyGracePeriod"/>; a slower sender is cut off.</summary>
    [Range(1, 1024 * 1024, ErrorMessage = "Gateway:Http:MinRequestBodyBytesPerSecond must be between 1 and 1048576.")]
    public int MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>Time a request body may start slower than <see cref="MinRequestBodyBytesPerSecond"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:02", "00:05:00", ErrorMessage = "Gateway:Http:RequestBodyGracePeriod must be between 2 seconds and 5 minutes (Kestrel checks rates once a second).")]
    public TimeSpan RequestBodyGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest a TLS handshake on the HTTPS listener may take.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00", ErrorMessage = "Gateway:Http:TlsHandshakeTimeout must be between 1 second and 5 minutes.")]
    public TimeSpan TlsHandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Rules across <see cref="HttpIngestOptions"/> fields, each failure naming its keys.</summary>
internal sealed class HttpIngestOptionsValidator : IValidateOptions<HttpIngestOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpIngestOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (IPAddress.TryParse(options.BindAddress, out var bind) && options.AllowAnonymous && !IPAddress.IsLoopback(bind))
        {
            failures.Add("Gateway:Http:AllowAnonymous must be false when Gateway:Http:BindAddress is not a loopback address: anonymous devices are allowed only on a loopback listener.");
        }

        options.AddCertificateFailures(failures);

        if (options.TlsEnabled && options.TlsPort == options.Port)
        {
            failures.Add("Gateway:Http:Port and Gateway:Http:TlsPort must differ.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
