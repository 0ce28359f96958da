using System.ComponentModel.DataAnnotations;

namespace Gateway.Sinks;

/// <summary>The sinks list under <c>Gateway:Sinks</c>; empty means the embedded default file sink.</summary>
public sealed class SinkListOptions
{
    /// <summary>Configured sinks, e.g. <c>Gateway__Sinks__0__Type=http</c>.</summary>
    public List<SinkOptions> Sinks { get; set; } = [];
}

/// <summary>
/// One sink: a name, a type, which messages it takes, and that type's settings. Settings of other types
/// are ignored.
/// </summary>
public sealed class SinkOptions
{
    /// <summary>Unique name; it appears in partition keys, metrics and the admin API.</summary>
    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", ErrorMessage = "Name must be 1-64 letters, digits, '-', '_' or '.'.")]
    public string Name { get; set; } = "";

    /// <summary>The sink type: <c>file</c>, <c>http</c> or <c>mqtt</c>.</summary>
    [Required]
    public string Type { get; set; } = "";

    /// <summary>MQTT topic filters ('+', '#') of the messages this sink takes; empty takes every topic.</summary>
    public List<string> Topics { get; set; } = [];

    /// <summary>Device id patterns ('*' wildcard) of the messages this sink takes; empty takes every device.</summary>
    public List<string> Devices { get; set; } = [];

    /// <summary>file: the folder the NDJSON files go to; default <c>{DataPath}/sink/{Name}</c>.</summary>
    public string? Path { get; set; }

    /// <summary>file: size after which a new file is started.</summary>
    [Range(1024, long.MaxValue, ErrorMessage = "MaxFileBytes must be at least 1024.")]
    public long MaxFileBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>http: the URL batches are POSTed to; https unless <see cref="AllowInsecure"/>.</summary>
    public Uri? Url { get; set; }

    /// <summary>http: gzip the request bodies.</summary>
    public bool Gzip { get; set; }

    /// <summary>
    /// http: a file holding a secret (a bearer token or an API key) sent with every request in <see cref="TokenHeader"/>;
    /// re-read when the file changes. Never logged.
    /// </summary>
    public string? TokenFile { get; set; }

    /// <summary>
    /// http: the header that carries <see cref="TokenFile"/>'s secret: <c>Authorization</c> (the default) sends
    /// <c>Bearer {secret}</c>; any other name (<c>x-api-key</c>, ...) sends the secret as it is.
    /// </summary>
    public string TokenHeader { get; set; } = "Authorization";

    /// <summary>mqtt: upstream broker host name.</summary>
    public string? Host { get; set; }

    /// <summary>mqtt: upstream broker port; 8883 (TLS) by default.</summary>
    [Range(1, 65535, ErrorMessage = "Port must be between 1 and 65535.")]
    public int Port { get; set; } = 8883;

    /// <summary>
    /// mqtt: topic to publish each record to; <c>{deviceId}</c> and <c>{topic}</c> (the device's own topic)
    /// are replaced.
    /// </summary>
    public string Topic { get; set; } = "{topic}";

    /// <summary>mqtt: client id at the upstream broker; default <c>{GatewayId}-{Name}</c>.</summary>
    public string? ClientId { get; set; }

    /// <summary>mqtt: user name at the upstream broker.</summary>
    public string? Username { get; set; }

    /// <summary>mqtt: password at the upstream broker; never logged.</summary>
    public string? Password { get; set; }

    /// <summary>Allows plaintext egress (http://, MQTT without TLS). Off: the gateway refuses to start with one.</summary>
    public bool AllowInsecure { get; set; }

    /// <summary>PEM file of the CA certificates the upstream server's certificate must chain to; default the system store.</summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>PEM file of the client certificate for mutual TLS.</summary>
    public string? ClientCertificatePath { get; set; }

    /// <summary>PEM file of the client certificate's private key.</summary>
    public string? ClientKeyPath { get; set; }

    /// <summary>Most records sent per second (metered links); 0 for no limit.</summary>
    [Range(0, int.MaxValue, ErrorMessage = "MessagesPerSecond must not be negative.")]
    public int MessagesPerSecond { get; set; }

    /// <summary>Most payload bytes sent per second (metered links); 0 for no limit.</summary>
    [Range(0, int.MaxValue, ErrorMessage = "BytesPerSecond must not be negative.")]
    public int BytesPerSecond { get; set; }

    /// <summary>Failed batches in a row (across the sink's partitions) that open the circuit.</summary>
    [Range(1, 10_000, ErrorMessage = "CircuitFailureThreshold must be between 1 and 10000.")]
    public int CircuitFailureThreshold { get; set; } = 5;

    /// <summary>How long an open circuit stops sending before one probe batch is tried.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00", ErrorMessage = "CircuitOpenDuration must be between 10 ms and 1 day.")]
    public TimeSpan CircuitOpenDuration { get; set; } = TimeSpan.FromSeconds(30);
}
