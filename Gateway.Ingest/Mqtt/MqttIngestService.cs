using System.Net;
using System.Net.Security;
using Gateway.Devices;
using Gateway.Ingest.Credentials;
using Gateway.Ingest.Mqtt.Listener;
using Gateway.Ingest.Tls;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Gateway.Ingest.Mqtt;

/// <summary>
/// Owns the embedded MQTTnet broker: its plaintext and TLS listeners, device authentication at CONNECT,
/// and telemetry PUBLISH handling (<see cref="TelemetryPublishHandler"/>). Starts after the silo, stops before it.
/// </summary>
public sealed partial class MqttIngestService(
    IOptions<MqttIngestOptions> options,
    DeviceCredentialCheck credentials,
    DeviceConnections connections,
    TelemetryPublishHandler publishes,
    MqttIngestMetrics metrics,
    ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private readonly MqttIngestOptions _options = options.Value;
    private readonly ILogger _logger = loggers.CreateLogger<MqttIngestService>();
    private MqttServer? _server;
    private ReloadingServerCertificate? _certificate;

    /// <summary>The running broker, once started.</summary>
    public MqttServer? Server => _server;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        var serverOptions = BuildServerOptions();
        var listener = new GuardedMqttListener(BuildEndpoints(), _options, metrics, _logger);
        var server = new MqttServerFactory().CreateMqttServer(serverOptions, [listener], new MqttNetLogBridge(loggers.CreateLogger("MQTTnet")));
        server.ValidatingConnectionAsync += ValidateConnectionAsync;
        server.ClientDisconnectedAsync += OnClientDisconnectedAsync;
        server.InterceptingPublishAsync += publishes.HandleAsync;
        server.InterceptingOutboundPacketAsync += AdvertiseLimitsAsync;
        server.InterceptingSubscriptionAsync += AuthorizeSubscriptionAsync;
        publishes.Disconnect = (clientId, reason, detail) =>
            server.DisconnectClientAsync(clientId, new MqttServerClientDisconnectOptions { ReasonCode = reason, ReasonString = detail });
        await server.StartAsync();
        _server = server;

        if (_options.PlaintextEnabled)
        {
            LogListening(_logger, "plaintext", _options.BindAddress, _options.Port);
            if (_options.AllowAnonymous)
            {
                LogAnonymousAllowed(_logger, _options.BindAddress, _options.Port);
            }
        }

        if (_options.TlsEnabled)
        {
            LogListening(_logger, string.IsNullOrEmpty(_options.ClientCaPath) ? "TLS" : _options.RequireClientCertificate ? "TLS, client certificate required" : "TLS, client certificate optional",
                _options.TlsBindAddress, _options.TlsPort);
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { } server)
        {
            // No PUBACK is pending after this: in-flight publishes finish or their connection closes unacknowledged.
            await server.StopAsync();
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        _server = null;
        _certificate?.Dispose();
        _certificate = null;
        return ValueTask.CompletedTask;
    }

    // Endpoints live in GuardedMqttListener; MQTTnet's options only carry protocol settings.
    private MqttServerOptions BuildServerOptions() =>
        new MqttServerOptionsBuilder()
            .WithDefaultCommunicationTimeout(_options.CommunicationTimeout)
            .WithPersistentSessions(false)
            .Build();

    // Exactly the configured addresses, never IPv4 and IPv6 "any" together.
    private List<MqttEndpoint> BuildEndpoints()
    {
        var endpoints = new List<MqttEndpoint>(2);
        if (_options.PlaintextEnabled)
        {
            endpoints.Add(new MqttEndpoint(IPAddress.Parse(_options.BindAddress), _options.Port, null, null));
        }

        if (_options.TlsEnabled)
        {
            // The TLS layer asks for a certificate; the callback decides whether one must be sent.
            RemoteCertificateValidationCallback? validate = string.IsNullOrEmpty(_options.ClientCaPath)
                ? null
                : new ClientCertificates(ClientCertificates.LoadBundle(_options.ClientCaPath, "Gateway:Mqtt:ClientCaPath"), _options.RequireClientCertificate).Validate;
            _certificate = new ReloadingServerCertificate(_options.CertificateSource(), _logger);
            endpoints.Add(new MqttEndpoint(IPAddress.Parse(_options.TlsBindAddress), _options.TlsPort, _certificate, validate));
        }

        return endpoints;
    }

    private async Task ValidateConnectionAsync(ValidatingConnectionEventArgs args)
    {
        var attempt = new CredentialAttempt(args.UserName, args.Password, args.IsSecureConnection ? args.ClientCertificate : null,
            args.IsSecureConnection, (args.RemoteEndPoint as IPEndPoint)?.Address);
        var result = await credentials.CheckAsync(attempt, args.IsSecureConnection ? _options.TlsPolicy : _options.PlaintextPolicy);
        if (!result.IsAuthenticated)
        {
            RefuseConnection(args, ConnectCodeOf(result.Reason, args.ProtocolVersion), result.Reason, result.Detail);
            return;
        }

        var identity = result.Identity!;
        var clientId = args.ClientId;
        if (string.IsNullOrEmpty(clientId))
        {
            if (args.ProtocolVersion != MqttProtocolVersion.V500)
            {
                RefuseConnection(args, MqttConnectReasonCode.ClientIdentifierNotValid, "client-id-invalid", "an empty client id needs MQTT 5");
                return;
            }

            clientId = $"{identity.DeviceId ?? "anonymous"}-{Guid.NewGuid():N}";
            args.AssignedClientIdentifier = clientId;
        }

        switch (connections.TryAdmit(clientId, identity, args.ProtocolVersion, _options.MaxConnectionsPerDevice))
        {
            case DeviceConnections.Admission.ClientIdInUse:
                RefuseConnection(args, MqttConnectReasonCode.ClientIdentifierNotValid, "client-id-in-use", "the client id is in use by another device");
                return;
            case DeviceConnections.Admission.TooManyConnections:
                // MQTT 3.1.1 has no quota code; "server unavailable" tells it to come back later.
                RefuseConnection(args, args.ProtocolVersion == MqttProtocolVersion.V500 ? MqttConnectReasonCode.QuotaExceeded : MqttConnectReasonCode.ServerUnavailable,
                    "too-many-connections", $"the device already holds {_options.MaxConnectionsPerDevice} connections");
                return;
        }

        if (identity.IsAnonymous)
        {
            LogAnonymousConnected(_logger, clientId, args.RemoteEndPoint?.ToString());
        }
    }

    // MQTT 3.1.1 has no rate or quota codes: "server unavailable" tells it to come back later.
    private static MqttConnectReasonCode ConnectCodeOf(string reason, MqttProtocolVersion protocol) => reason switch
    {
        IngestReasons.AuthenticationThrottled => protocol == MqttProtocolVersion.V500 ? MqttConnectReasonCode.ConnectionRateExceeded : MqttConnectReasonCode.ServerUnavailable,
        IngestReasons.BadCredentials => MqttConnectReasonCode.BadUserNameOrPassword,
        IngestReasons.Unavailable => MqttConnectReasonCode.ServerUnavailable,
        _ => MqttConnectReasonCode.NotAuthorized,
    };

    private void RefuseConnection(ValidatingConnectionEventArgs args, MqttConnectReasonCode code, string reason, string detail)
    {
        args.ReasonCode = code;
        if (args.ProtocolVersion == MqttProtocolVersion.V500)
        {
            args.ReasonString = detail;
        }

        metrics.ConnectionRefused(reason);

        // The password is never logged; the user name is a device id.
        LogConnectionRefused(_logger, args.ClientId, args.UserName, args.RemoteEndPoint?.ToString(), reason, detail);
    }

    private Task OnClientDisconnectedAsync(ClientDisconnectedEventArgs args)
    {
        connections.Release(args.ClientId);
        return Task.CompletedTask;
    }

    private Task AdvertiseLimitsAsync(InterceptingPacketEventArgs args)
    {
        if (args.Packet is MqttConnAckPacket { ReasonCode: MqttConnectReasonCode.Success } connAck)
        {
            // MQTT 5 clients keep to these; the server also reads one PUBLISH per connection at a time.
            connAck.ReceiveMaximum = (ushort)_options.MaxInFlightPerClient;
            connAck.MaximumPacketSize = (uint)_options.MaxPacketBytes;
            connAck.MaximumQoS = MqttQualityOfServiceLevel.AtLeastOnce;
            connAck.RetainAvailable = false;
        }

        return Task.CompletedTask;
    }

    private Task AuthorizeSubscriptionAsync(InterceptingSubscriptionEventArgs args)
    {
        var identity = connections.Find(args.ClientId)?.Identity;
        var filter = args.TopicFilter.Topic ?? "";
        var allowed = _options.ForwardToSubscribers && identity is not null
            && (identity.IsAnonymous || filter.StartsWith(TelemetryTopic.DevicePrefix(identity.DeviceId!), StringComparison.Ordinal));
        if (!allowed)
        {
            args.ProcessSubscription = false;
            args.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "MQTT {Kind} listener on {Address}:{Port}")]
    private static partial void LogListening(ILogger logger, string kind, string address, int port);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "MQTT listener {Address}:{Port} accepts anonymous devices, which may publish as any device id (first-run mode, loopback only); provision device secrets and set Gateway:Mqtt:AllowAnonymous=false")]
    private static partial void LogAnonymousAllowed(ILogger logger, string address, int port);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Anonymous MQTT client {ClientId} connected from {RemoteEndPoint} (first-run mode)")]
    private static partial void LogAnonymousConnected(ILogger logger, string clientId, string? remoteEndPoint);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "MQTT connection of client {ClientId} (user {UserName}) from {RemoteEndPoint} refused: {Reason}, {Detail}")]
    private static partial void LogConnectionRefused(ILogger logger, string? clientId, string? userName, string? remoteEndPoint, string reason, string detail);

    /// <summary>Forwards MQTTnet's own log to the host's logging, one level down (its warnings are routine disconnects).</summary>
    private sealed class MqttNetLogBridge(ILogger logger) : IMqttNetLogger
    {
        public bool IsEnabled => logger.IsEnabled(LogLevel.Debug);

        public void Publish(MqttNetLogLevel level, string source, string message, object[] parameters, Exception exception)
        {
            var mapped = level switch
            {
                MqttNetLogLevel.Error => LogLevel.Warning,
                MqttNetLogLevel.Warning => LogLevel.Debug,
                MqttNetLogLevel.Info => LogLevel.Trace,
                _ => LogLevel.None,
            };
            if (mapped == LogLevel.None || !logger.IsEnabled(mapped))
            {
                return;
            }

            var text = parameters is { Length: > 0 } ? string.Format(System.Globalization.CultureInfo.InvariantCulture, message, parameters) : message;
#pragma warning disable CA2254 // MQTTnet's messages are already formatted.
            logger.Log(mapped, exception, "{Source}: {Message}", source, text);
#pragma warning restore CA2254
        }
    }
}
