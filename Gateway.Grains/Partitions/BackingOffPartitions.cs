using System.Collections.Concurrent;

namespace Gateway.Partitions;

/// <summary>
/// Which partitions are backing off after failed deliveries, per sink (the circuit breaker is
/// <see cref="Gateway.Sinks.SinkCircuit"/>). Partition grains report; metrics and operators read.
/// </summary>
public sealed class BackingOffPartitions
{
    private readonly ConcurrentDictionary<PartitionKey, byte> _failing = new();

    /// <summary>The partition's last delivery failed and it waits to retry.</summary>
    public void Failing(PartitionKey partition) => _failing.TryAdd(partition, 0);

    /// <summary>The partition delivered, or stopped (deactivated) without a pending retry.</summary>
    public void Recovered(PartitionKey partition) => _failing.TryRemove(partition, out _);

    /// <summary>How many partitions of <paramref name="sink"/> are backing off.</summary>
    public int FailingPartitions(string sink)
    {
        var count = 0;
        foreach (var partition in _failing.Keys)
        {
            if (partition.Sink == sink)
            {
                count++;
            }
        }

        return count;
    }
}
