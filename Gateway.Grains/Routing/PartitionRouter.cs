using System.IO.Hashing;
using System.Text;
using Gateway.Devices;
using Gateway.Partitions;
using Gateway.Sinks;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>
/// Maps a device to one partition per sink. The mapping depends only on the device id and the partition
/// count, so every silo and every restart agrees on it, and one device's records always queue in one
/// partition, which sends them in WAL order.
/// </summary>
public sealed class PartitionRouter(SinkCatalog sinks, IOptions<DeliveryOptions> options)
{
    private readonly int _partitionCount = options.Value.PartitionCount;

    /// <summary>The partition number of a device, in [0, PartitionCount).</summary>
    public int PartitionOf(string deviceId)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(deviceId.Length, DeviceId.MaxLength);
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(deviceId.Length)];
        var length = Encoding.UTF8.GetBytes(deviceId, utf8);
        return (int)(XxHash32.HashToUInt32(utf8[..length]) % (uint)_partitionCount);
    }

    /// <summary>The partitions a device's messages go through: one per configured sink.</summary>
    public IReadOnlyList<PartitionKey> RoutesFor(string deviceId)
    {
        var partition = PartitionOf(deviceId);
        var routes = new PartitionKey[sinks.Names.Count];
        for (var i = 0; i < routes.Length; i++)
        {
            routes[i] = new PartitionKey(sinks.Names[i], partition);
        }

        return routes;
    }
}
