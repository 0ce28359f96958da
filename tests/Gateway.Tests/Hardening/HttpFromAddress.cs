using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Hardening;

/// <summary>An HTTP client whose connections leave from a chosen loopback source address, like <see cref="RawConnection"/>.</summary>
public static class HttpFromAddress
{
    public static HttpClient Create(string sourceAddress, Uri baseAddress)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellation) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(sourceAddress), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellation);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }
}
