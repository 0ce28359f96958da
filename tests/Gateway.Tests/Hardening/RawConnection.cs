using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Hardening;

/// <summary>
/// A raw TCP connection from a chosen loopback source address (127.0.0.0/8 is all loopback on Linux), so an
/// attacker's traffic has an address of its own, apart from the honest devices on 127.0.0.1.
/// </summary>
public sealed class RawConnection : IDisposable
{
    private readonly Socket _socket;

    private RawConnection(Socket socket) => _socket = socket;

    public static async Task<RawConnection> OpenAsync(string sourceAddress, int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Parse(sourceAddress), 0));
            await socket.ConnectAsync(IPAddress.Loopback, port);
            return new RawConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            await _socket.SendAsync(bytes, SocketFlags.None);
        }
        catch (SocketException)
        {
            // The server may already have closed a hostile connection; that is an outcome, not a test failure.
        }
    }

    public Task SendAsync(string text) => SendAsync(Encoding.ASCII.GetBytes(text));

    /// <summary>Reads what the server sends until it closes the connection or <paramref name="timeout"/> passes.</summary>
    public async Task<(byte[] Received, bool Closed)> ReadUntilClosedAsync(TimeSpan timeout)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var read = await _socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                if (read == 0)
                {
                    return (received.ToArray(), true);
                }

                received.AddRange(buffer.AsSpan(0, read));
            }
        }
        catch (OperationCanceledException)
        {
            return (received.ToArray(), false);
        }
        catch (SocketException)
        {
            return (received.ToArray(), true);
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, or fewer if the server closes first.</summary>
    public async Task<byte[]> ReadAsync(int count, TimeSpan timeout)
    {
        var buffer = new byte[count];
        var filled = 0;
        using var deadline = new CancellationTokenSource(timeout);
        while (filled < count)
        {
            var read = await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, deadline.Token);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        return buffer[..filled];
    }

    public void Dispose() => _socket.Dispose();
}

/// <summary>MQTT 3.1.1 packets built byte by byte, so a test can send exactly what a client library would refuse to.</summary>
public static class RawMqtt
{
    public static byte[] Connect(string clientId, string? userName = null, string? password = null)
    {
        var body = new List<byte>();
        body.AddRange(String("MQTT"));
        body.Add(4); // protocol level 3.1.1
        body.Add((byte)(0x02 | (userName is null ? 0 : 0x80) | (password is null ? 0 : 0x40)));
        body.AddRange([0, 30]); // keep alive, seconds
        body.AddRange(String(clientId));
        if (userName is not null)
        {
            body.AddRange(String(userName));
        }

        if (password is not null)
        {
            body.AddRange(String(password));
        }

        return Packet(0x10, body);
    }

    /// <summary>A QoS 1 PUBLISH whose topic is given as raw bytes (which may be invalid UTF-8).</summary>
    public static byte[] Publish(byte[] topic, ushort packetId, byte[] payload)
    {
        var body = new List<byte> { (byte)(topic.Length >> 8), (byte)topic.Length };
        body.AddRange(topic);
        body.AddRange([(byte)(packetId >> 8), (byte)packetId]);
        body.AddRange(payload);
        return Packet(0x32, body);
    }

    /// <summary>A fixed header announcing <paramref name="remainingLength"/> bytes that never follow.</summary>
    public static byte[] HeaderOnly(byte typeAndFlags, int remainingLength) => [typeAndFlags, .. RemainingLength(remainingLength)];

    private static byte[] Packet(byte typeAndFlags, List<byte> body) => [typeAndFlags, .. RemainingLength(body.Count), .. body];

    private static byte[] String(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return [(byte)(bytes.Length >> 8), (byte)bytes.Length, .. bytes];
    }

    private static List<byte> RemainingLength(int length)
    {
        var encoded = new List<byte>(4);
        do
        {
            var digit = (byte)(length % 128);
            length /= 128;
            encoded.Add(length > 0 ? (byte)(digit | 0x80) : digit);
        }
        while (length > 0);
        return encoded;
    }
}
