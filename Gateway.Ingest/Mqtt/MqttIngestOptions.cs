using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Options;

namespace Gateway.Ingest.Mqtt;

/// <summary>Settings under <c>Gateway:Mqtt</c>: the embedded MQTT broker's listeners, device authentication and limits.</summary>
public sealed class MqttIngestOptions() : DeviceListenerOptions(Section, "TLS listener")
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gateway:Mqtt";

    /// <summary>Runs the MQTT listeners; false turns MQTT ingest off.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>TCP port of the plaintext listener; 0 turns it off (for example when only TLS should be offered).</summary>
    [Range(0, 65535, ErrorMessage = "Gateway:Mqtt:Port must be between 0 (off) and 65535.")]
    public int Port { get; set; } = 1883;

    /// <summary>Address the plaintext listener binds to; loopback by default, since plaintext credentials can be sniffed.</summary>
    [Required, RegularExpression(@"^[0-9A-Fa-f:.]+$", ErrorMessage = "Gateway:Mqtt:BindAddress must be an IP address.")]
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>TCP port of the TLS listener, which runs when <see cref="CertificatePath"/> is set.</summary>
    [Range(1, 65535, ErrorMessage = "Gateway:Mqtt:TlsPort must be between 1 and 65535.")]
    public int TlsPort { get; set; } = 8883;

    /// <summary>Address the TLS listener binds to; every interface, since devices authenticate on it.</summary>
    [Required, RegularExpression(@"^[0-9A-Fa-f:.]+$", ErrorMessage = "Gateway:Mqtt:TlsBindAddress must be an IP address.")]
    public string TlsBindAddress { get; set; } = "0.0.0.0";

    /// <summary>Largest PUBLISH payload, in bytes; a larger one closes the connection with reason 0x95 (packet too large).</summary>
    [Range(1, 16 * 1024 * 1024, ErrorMessage = "Gateway:Mqtt:MaxPayloadBytes must be between 1 and 16777216.")]
    public int MaxPayloadBytes { get; set; } = 256 * 1024;

    /// <summary>Longest topic name, in characters; a longer one is refused with reason 0x90 (topic name invalid).</summary>
    [Range(16, 65535, ErrorMessage = "Gateway:Mqtt:MaxTopicLength must be between 16 and 65535.")]
    public int MaxTopicLength { get; set; } = 256;

    /// <summary>Most simultaneous connections one device identity may hold; more are refused with 0x97 (quota exceeded).</summary>
    [Range(1, 1000, ErrorMessage = "Gateway:Mqtt:MaxConnectionsPerDevice must be between 1 and 1000.")]
    public int MaxConnectionsPerDevice { get; set; } = 4;

    /// <summary>Receive Maximum told to MQTT 5 clients: most unacknowledged QoS 1 messages a client may have in flight.</summary>
    [Range(1, 65535, ErrorMessage = "Gateway:Mqtt:MaxInFlightPerClient must be between 1 and 65535.")]
    public int MaxInFlightPerClient { get; set; } = 16;

    /// <summary>Also delivers accepted telemetry to MQTT subscribers of this broker (a device may subscribe only under its own topic).</summary>
    public bool ForwardToSubscribers { get; set; }

    /// <summary>How long a new connection may take to send CONNECT, and the timeout of other protocol exchanges.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Gateway:Mqtt:CommunicationTimeout must be between 1 second and 10 minutes.")]
    public TimeSpan CommunicationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most open MQTT connections, over all listeners and before or after CONNECT; a socket over it is closed at once.</summary>
    [Range(1, 100_000, ErrorMessage = "Gateway:Mqtt:MaxConnections must be between 1 and 100000.")]
    public int MaxConnections { get; set; } = 1000;

    /// <summary>Longest a TLS handshake may take; a peer that opens a connection and stalls it is cut off after this.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00", ErrorMessage = "Gateway:Mqtt:TlsHandshakeTimeout must be between 1 second and 5 minutes.")]
    public TimeSpan TlsHandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Most open MQTT connections from one client address, over all listeners; over it a socket is closed at once, so
    /// one address cannot take every slot of <see cref="MaxConnections"/>. Raise it for many devices behind one NAT.
    /// </summary>
    [Range(1, 100_000, ErrorMessage = "Gateway:Mqtt:MaxConnectionsPerAddress must be between 1 and 100000.")]
    public int MaxConnectionsPerAddress { get; set; } = 100;

    /// <summary>
    /// Largest MQTT packet accepted (and advertised to MQTT 5 clients as Maximum Packet Size): the payload limit,
    /// the topic and room for properties. A larger announced packet closes the connection before it is buffered.
    /// </summary>
    public int MaxPacketBytes => MaxPayloadBytes + MaxTopicLength + 16 * 1024;

    /// <summary>True when the plaintext listener runs.</summary>
    public bool PlaintextEnabled => Port != 0;
}

/// <summary>Rules across <see cref="MqttIngestOptions"/> fields, each failure naming its keys.</summary>
internal sealed class MqttIngestOptionsValidator : IValidateOptions<MqttIngestOptions>
{
    public ValidateOptionsResult Validate(string? name, MqttIngestOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (!IPAddress.TryParse(options.BindAddress, out var bind))
        {
            failures.Add("Gateway:Mqtt:BindAddress must be an IP address.");
        }
        else if (options.PlaintextEnabled && options.AllowAnonymous && !IPAddress.IsLoopback(bind))
        {
            failures.Add("Gateway:Mqtt:AllowAnonymous must be false when Gateway:Mqtt:BindAddress is not a loopback address: anonymous devices are allowed only on a loopback listener.");
        }

        if (!IPAddress.TryParse(options.TlsBindAddress, out _))
        {
            failures.Add("Gateway:Mqtt:TlsBindAddress must be an IP address.");
        }

        options.AddCertificateFailures(failures);

        if (!options.PlaintextEnabled && !options.TlsEnabled)
        {
            failures.Add("Gateway:Mqtt:Port is 0 and Gateway:Mqtt:CertificatePath is not set: no MQTT listener would run (set Gateway:Mqtt:Enabled=false to turn MQTT off).");
        }

        if (options.PlaintextEnabled && options.TlsEnabled && options.Port == options.TlsPort && options.BindAddress == options.TlsBindAddress)
        {
            failures.Add("Gateway:Mqtt:Port and Gateway:Mqtt:TlsPort must differ.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
