using System.Net;

namespace Gateway.Ingest.Mqtt.Listener;

/// <summary>Open connections per client address, so that no one address can hold every connection slot.</summary>
internal sealed class ConnectionsByAddress
{
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, int> _open = [];

    /// <summary>Counts a new connection from <paramref name="address"/>, unless it already holds <paramref name="limit"/>.</summary>
    public bool TryOpen(IPAddress address, int limit)
    {
        address = Canonical(address);
        lock (_lock)
        {
            var open = _open.GetValueOrDefault(address);
            if (open >= limit)
            {
                return false;
            }

            _open[address] = open + 1;
            return true;
        }
    }

    /// <summary>Forgets one connection of <paramref name="address"/>; an address with none left takes no memory.</summary>
    public void Close(IPAddress address)
    {
        address = Canonical(address);
        lock (_lock)
        {
            if (_open.TryGetValue(address, out var open))
            {
                if (open <= 1)
                {
                    _open.Remove(address);
                }
                else
                {
                    _open[address] = open - 1;
                }
            }
        }
    }

    // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d; it is the same address as a.b.c.d.
    private static IPAddress Canonical(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
