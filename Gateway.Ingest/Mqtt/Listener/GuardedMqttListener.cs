using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gateway.Ingest.Tls;
using Microsoft.Extensions.Logging;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Server;

namespace Gateway.Ingest.Mqtt.Listener;

/// <summary>One TCP endpoint the broker listens on: its address, port, and TLS settings when it is the TLS listener.</summary>
/// <param name="Address">The one address bound (never IPv4 and IPv6 "any" together).</param>
/// <param name="Port">TCP port.</param>
/// <param name="Certificate">The server certificate for TLS, read again when its files change; null for plaintext.</param>
/// <param name="ValidateClientCertificate">The client certificate check for mTLS; null when no client certificate is asked for.</param>
internal sealed record MqttEndpoint(IPAddress Address, int Port, ReloadingServerCertificate? Certificate, RemoteCertificateValidationCallback? ValidateClientCertificate)
{
    /// <summary>True for the TLS listener.</summary>
    public bool IsTls => Certificate is not null;
}

/// <summary>
/// The broker's TCP listeners, in place of MQTTnet's own: they add what MQTTnet's lacks for an exposed port.
/// A cap on open connections, overall and per client address (over either a socket is closed at once, before it
/// can hold a slot through a handshake or a CONNECT timeout), a deadline on the TLS handshake, and
/// <see cref="MqttPacketGuard"/> so no packet larger than the limit is ever buffered. Each refusal is
/// counted by reason in <see cref="MqttIngestMetrics"/>.
/// </summary>
internal sealed partial class GuardedMqttListener(
    IReadOnlyList<MqttEndpoint> endpoints,
    MqttIngestOptions options,
    MqttIngestMetrics metrics,
    ILogger logger) : IMqttServerAdapter
{
    private readonly List<Socket> _sockets = [];
    private CancellationTokenSource? _stopping;
    private MqttServerOptions? _serverOptions;
    private IMqttNetLogger? _mqttLogger;
    private readonly ConnectionsByAddress _byAddress = new();
    private int _openConnections;

    /// <inheritdoc />
    public Func<IMqttChannelAdapter, Task>? ClientHandler { get; set; }

    /// <inheritdoc />
    public Task StartAsync(MqttServerOptions options, IMqttNetLogger logger)
    {
        _serverOptions = options;
        _mqttLogger = logger;
        _stopping = new CancellationTokenSource();
        foreach (var endpoint in endpoints)
        {
            var socket = new Socket(endpoint.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            var address = new IPEndPoint(endpoint.Address, endpoint.Port);
            try
            {
                // Lets a restarted gateway bind while old connections sit in TIME_WAIT (on Linux it never shares a live port).
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(address);
                socket.Listen(512);
            }
            catch (SocketException error)
            {
                socket.Dispose();
                throw new ListenerBindException(address, error);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            _sockets.Add(socket);
            _ = AcceptAsync(socket, endpoint, _stopping.Token);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync()
    {
        Close();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose() => Close();

    private void Close()
    {
        _stopping?.Cancel();
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        _sockets.Clear();
        _stopping?.Dispose();
        _stopping = null;
    }

    private async Task AcceptAsync(Socket listener, MqttEndpoint endpoint, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception error) when (error is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException error)
            {
                // A peer that reset before accept, or a descriptor shortage: keep listening, a little later.
                LogAcceptFailed(logger, endpoint.Port, error.SocketErrorCode);
                await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            if (Interlocked.Increment(ref _openConnections) > options.MaxConnections)
            {
                Interlocked.Decrement(ref _openConnections);
                metrics.ConnectionRefused("connection-limit");
                client.Dispose();
                continue;
            }

            var address = (client.RemoteEndPoint as IPEndPoint)?.Address;
            if (address is not null && !_byAddress.TryOpen(address, options.MaxConnectionsPerAddress))
            {
                Interlocked.Decrement(ref _openConnections);
                metrics.ConnectionRefused("address-connection-limit");
                LogAddressLimit(logger, address.ToString(), options.MaxConnectionsPerAddress);
                client.Dispose();
                continue;
            }

            metrics.ConnectionOpened(endpoint.IsTls);
            _ = Task.Run(() => ServeAsync(client, address, endpoint, stopping), CancellationToken.None);
        }
    }

    private async Task ServeAsync(Socket client, IPAddress? address, MqttEndpoint endpoint, CancellationToken stopping)
    {
        var remote = client.RemoteEndPoint;
        Stream? stream = null;
        GuardedMqttChannel? channel = null;
        var guard = new MqttPacketGuard(options.MaxPacketBytes);
        try
        {
            client.NoDelay = true;
            stream = new NetworkStream(client, ownsSocket: true);
            X509Certificate2? clientCertificate = null;
            if (endpoint.IsTls)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false, endpoint.ValidateClientCertificate);
                stream = tls;
                if (await HandshakeAsync(tls, endpoint, stopping).ConfigureAwait(false) is { } refusal)
                {
                    metrics.ConnectionRefused(refusal);
                    return;
                }

                clientCertificate = tls.RemoteCertificate as X509Certificate2
                    ?? (tls.RemoteCertificate is { } presented ? X509CertificateLoader.LoadCertificate(presented.GetRawCertData()) : null);
            }

            if (ClientHandler is { } handler && _serverOptions is { } serverOptions)
            {
                channel = new GuardedMqttChannel(stream, client.LocalEndPoint, remote, clientCertificate, endpoint.IsTls, guard);
                var formatter = new MqttPacketFormatterAdapter(new MqttBufferWriter(serverOptions.WriterBufferSize, serverOptions.WriterBufferSizeMax));
                using var adapter = new MqttChannelAdapter(channel, formatter, _mqttLogger);
                await handler(adapter).ConfigureAwait(false);
            }
        }
        catch (Exception error)
        {
            // Whatever one connection throws ends that connection only; hostile input makes this routine, hence Debug.
            LogConnectionFailed(logger, remote?.ToString(), error.Message);
        }
        finally
        {
            if (channel is not null)
            {
                // The guard's own refusal, or a peer that never got as far as an answer to CONNECT (garbage, silence, a drop).
                var reason = guard.RefusalReason ?? (channel.ServerAnswered ? null : "connect-not-completed");
                if (reason is not null)
                {
                    metrics.ConnectionRefused(reason);
                }
            }

            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            client.Dispose();
            if (address is not null)
            {
                _byAddress.Close(address);
            }

            Interlocked.Decrement(ref _openConnections);
            metrics.ConnectionClosed(endpoint.IsTls);
        }
    }

    // The deadline covers the whole handshake: a peer that opens TCP and then says nothing, or dribbles a ClientHello, is cut off.
    private async Task<string?> HandshakeAsync(SslStream tls, MqttEndpoint endpoint, CancellationToken stopping)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        deadline.CancelAfter(options.TlsHandshakeTimeout);
        try
        {
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = endpoint.Certificate!.Current,
                ClientCertificateRequired = endpoint.ValidateClientCertificate is not null,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                EncryptionPolicy = EncryptionPolicy.RequireEncryption,
            }, deadline.Token).ConfigureAwait(false);
            return null;
        }
        catch (Exception) when (deadline.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            // Whatever the handshake ended with once its deadline had passed (a cancelled read, or the EOF or reset a
            // cancelled read can turn into under load), the peer ran out of time.
            return "tls-handshake-timeout";
        }
        catch (Exception error) when (error is AuthenticationException or IOException)
        {
            return "tls-handshake-failed";
        }
    }

    [LoggerMessage(EventId = 4010, Level = LogLevel.Warning, Message = "MQTT listener on port {Port} could not accept a connection: {Error}")]
    private static partial void LogAcceptFailed(ILogger logger, int port, SocketError error);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Warning, Message = "MQTT connection from {Address} refused: the address already holds {Limit} connections (Gateway:Mqtt:MaxConnectionsPerAddress)")]
    private static partial void LogAddressLimit(ILogger logger, string address, int limit);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Debug, Message = "MQTT connection from {RemoteEndPoint} closed: {Reason}")]
    private static partial void LogConnectionFailed(ILogger logger, string? remoteEndPoint, string reason);
}
