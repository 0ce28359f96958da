using System.Buffers;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Channel;

namespace Gateway.Ingest.Mqtt.Listener;

/// <summary>
/// One device connection as MQTTnet sees it: the socket or TLS stream, with every read passed through an
/// <see cref="MqttPacketGuard"/> before MQTTnet gets the bytes.
/// </summary>
internal sealed class GuardedMqttChannel(Stream stream, EndPoint? localEndPoint, EndPoint? remoteEndPoint, X509Certificate2? clientCertificate, bool isSecure, MqttPacketGuard guard)
    : IMqttChannel
{
    /// <summary>True once the server has written anything (a CONNACK at least): the MQTT handshake got an answer.</summary>
    public bool ServerAnswered { get; private set; }

    public X509Certificate2? ClientCertificate => clientCertificate;

    public EndPoint? RemoteEndPoint => remoteEndPoint;

    public EndPoint? LocalEndPoint => localEndPoint;

    public bool IsSecureConnection => isSecure;

    // Server side: the connection exists before MQTTnet sees it.
    public Task ConnectAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task DisconnectAsync(CancellationToken cancellationToken)
    {
        stream.Dispose();
        return Task.CompletedTask;
    }

    public async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        int read;
        try
        {
            read = await stream.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // A closed connection, as MQTTnet's own channel reports it.
            return 0;
        }

        guard.Inspect(buffer.AsSpan(offset, read));
        return read;
    }

    public async Task WriteAsync(ReadOnlySequence<byte> buffer, bool isEndOfPacket, CancellationToken cancellationToken)
    {
        ServerAnswered = true;
        foreach (var segment in buffer)
        {
            await stream.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => stream.Dispose();
}
