using System.Net;
using System.Net.Sockets;

namespace Gateway.Benchmarks.Http;

/// <summary>Loopback ports nobody listens on, found by letting the OS pick them.</summary>
internal static class FreePorts
{
    /// <summary>
    /// <paramref name="count"/> distinct free ports. All listeners stay open until every port is picked, so
    /// the OS cannot hand out one port twice; another process may still take one before the gateway binds it.
    /// </summary>
    public static int[] Take(int count)
    {
        var listeners = new List<TcpListener>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listeners.Add(listener);
                listener.Start();
            }

            return listeners.ConvertAll(listener => ((IPEndPoint)listener.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }
        }
    }
}
