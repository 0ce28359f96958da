using System.Globalization;

namespace Gateway.Load.Load;

/// <summary>What one <c>run</c> does; see <see cref="Usage"/>.</summary>
internal sealed record LoadSettings
{
    public const string Usage = """
        Gateway.Load run --port <port> [options]
          --transport mqtt|mqtt-qos0|http   default mqtt (MQTT 5 QoS 1)
          --host <address>                  default 127.0.0.1
          --devices <n>                     simulated devices, one connection each; default 100
          --device-prefix <text>            device ids are <prefix>-<i>; default load-<random>, so no two runs share ids
          --rate <msgs/s>                   total rate over all devices; 0 (default) is flat out
          --payload <bytes>                 JSON payload size; default 100
          --duration <seconds>              send for this long (after the warm-up); default 10; with --count, a time limit
          --count <n>                       or send exactly n messages in total (each device its share)
          --warmup <seconds>                sent and logged, but not in the figures; default 0
          --silent                          MQTT: devices connect and stay connected, sending nothing (idle cost)
          --in-flight <n>                   unacknowledged MQTT messages per device; default 1 (HTTP: always 1)
          --concurrency <n>                 HTTP: at most n devices at work at once (each sends its whole share, then the
                                            next starts), so 100,000 devices need not hold 100,000 connections; default all
          --acked <file>                    append '<deviceId> <n>' for every acknowledged message
          --ca <pem>                        MQTT over TLS, trusting this CA bundle
          --cert <pem> --key <pem>          client certificate (mTLS); the device id is sent as the user name
          --label <text>                    the label of the JSON summary line
          --timeout <seconds>               wait for one acknowledgement; default 30
          --server-pid <pid>                also report the CPU this process (the broker or gateway) spent per message,
                                            and the bytes it caused to be written to storage per message
        Prints one JSON line: label, transport, devices, acked, seconds, rate, p50/p99/p999 ms, refused, reconnects,
        and the CPU microseconds per measured message of the load generator and (with --server-pid) of the server,
        with the server's bytes written per measured message.
        """;

    public required Transport Transport { get; init; }
    public required string Host { get; init; }
    public required int Port { get; init; }
    public required int Devices { get; init; }
    public required string DevicePrefix { get; init; }
    public required double Rate { get; init; }
    public required int PayloadBytes { get; init; }
    /// <summary>How long devices send (after the warm-up); in a counted run, a time limit when given.</summary>
    public required TimeSpan? Duration { get; init; }
    public required long? Count { get; init; }
    public required TimeSpan WarmUp { get; init; }
    public required int InFlight { get; init; }

    /// <summary>Devices connect and keep their connections open without sending: what idle connections cost.</summary>
    public bool Silent { get; init; }

    /// <summary>HTTP devices at work at once; 0 is all of them.</summary>
    public int Concurrency { get; init; }
    public required string? AckedPath { get; init; }
    public required string? CaPath { get; init; }
    public required string? CertificatePath { get; init; }
    public required string? KeyPath { get; init; }
    public required string Label { get; init; }
    public required TimeSpan AckTimeout { get; init; }

    /// <summary>The process under test, whose CPU per message is reported; null when not asked for.</summary>
    public int? ServerPid { get; init; }

    public string DeviceId(int index) => string.Create(CultureInfo.InvariantCulture, $"{DevicePrefix}-{index}");

    /// <summary>Messages device <paramref name="index"/> sends in a counted run, or null in a timed one.</summary>
    public long? ShareOf(int index) => Count is { } count ? count / Devices + (index < count % Devices ? 1 : 0) : null;

    public static LoadSettings From(Arguments arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var transport = arguments.Text("--transport") ?? "mqtt";
        var settings = new LoadSettings
        {
            Transport = transport switch
            {
                "mqtt" => Transport.MqttQos1,
                "mqtt-qos0" => Transport.MqttQos0,
                "http" => Transport.Http,
                _ => throw new ArgumentException($"--transport must be mqtt, mqtt-qos0 or http, not '{transport}'."),
            },
            Host = arguments.Text("--host") ?? "127.0.0.1",
            Port = arguments.Integer("--port", 0, minimum: 1) is var port and > 0 ? port : throw new ArgumentException("--port is required."),
            Devices = arguments.Integer("--devices", 100, minimum: 1),
            DevicePrefix = arguments.Text("--device-prefix") ?? "load-" + Guid.NewGuid().ToString("N")[..6],
            Rate = arguments.Number("--rate", 0),
            PayloadBytes = arguments.Integer("--payload", 100, minimum: 1),
            Duration = arguments.Text("--duration") is null && arguments.Text("--count") is not null ? null : TimeSpan.FromSeconds(arguments.Number("--duration", 10)),
            Count = arguments.Text("--count") is null ? null : arguments.Integer("--count", 0, minimum: 1),
            WarmUp = TimeSpan.FromSeconds(arguments.Number("--warmup", 0)),
            InFlight = arguments.Integer("--in-flight", 1, minimum: 1) is var window && transport != "http" ? window : 1,
            Concurrency = arguments.Integer("--concurrency", 0),
            Silent = arguments.Flag("--silent"),
            AckedPath = arguments.Text("--acked"),
            CaPath = arguments.Text("--ca"),
            CertificatePath = arguments.Text("--cert"),
            KeyPath = arguments.Text("--key"),
            Label = arguments.Text("--label") ?? transport,
            AckTimeout = TimeSpan.FromSeconds(arguments.Number("--timeout", 30)),
            ServerPid = arguments.Text("--server-pid") is null ? null : arguments.Integer("--server-pid", 0, minimum: 1),
        };
        if ((settings.CertificatePath is null) != (settings.KeyPath is null))
        {
            throw new ArgumentException("--cert and --key go together.");
        }

        if (settings.Concurrency > 0 && settings.Transport != Transport.Http)
        {
            throw new ArgumentException("--concurrency is for --transport http; an MQTT device holds its connection for the whole run.");
        }

        if (settings.Silent && (settings.Transport == Transport.Http || settings.Count is not null))
        {
            throw new ArgumentException("--silent holds MQTT connections for --duration; it takes no --count and no HTTP.");
        }

        if (settings.Count < settings.Devices)
        {
            throw new ArgumentException("--count must be at least --devices.");
        }

        return settings;
    }
}
