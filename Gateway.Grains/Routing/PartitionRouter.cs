using System.IO.Hashing;
using System.Text;
using Gateway.Devices;
using Gateway.Partitions;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>
/// Maps a message to its deliveries: one per sink whose route takes it, each in the device's partition.
/// The partition depends only on the device id and the partition count, so every silo and every restart
/// agrees on it, and one device's records always queue in one partition per sink, which sends them in
/// WAL order.
/// </summary>
public sealed class PartitionRouter(IReadOnlyList<SinkRoute> routes, IOptions<DeliveryOptions> options)
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

    /// <summary>The partitions a device's message on <paramref name="topic"/> is delivered through; empty when no sink takes it.</summary>
    public IReadOnlyList<PartitionKey> RoutesFor(string deviceId, string topic)
    {
        var partition = PartitionOf(deviceId);
        var matched = new List<PartitionKey>(routes.Count);
        foreach (var route in routes)
        {
            if (route.Matches(deviceId, topic))
            {
                matched.Add(new PartitionKey(route.Sink, partition));
            }
        }

        return matched;
    }
}
