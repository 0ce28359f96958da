using System.Net;

namespace Gateway.Benchmarks.Http;

/// <summary>HTTP clients for talking to the gateway on 127.0.0.1.</summary>
internal static class LoopbackHttp
{
    /// <summary>The address of a loopback listener on <paramref name="port"/>.</summary>
    public static Uri Address(int port) => new($"http://{IPAddress.Loopback}:{port}/");

    /// <summary>
    /// A client with up to <paramref name="maxConnections"/> connections. It never uses a proxy: an
    /// http_proxy variable must not route the benchmark's loopback traffic elsewhere.
    /// </summary>
    public static HttpClient CreateClient(int maxConnections, TimeSpan requestTimeout) =>
        new(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = maxConnections })
        {
            Timeout = requestTimeout,
        };
}
