using System.Runtime.InteropServices;
using Gateway.Partitions;

namespace Gateway.Wal;

/// <summary>A device's batch of new messages, appended in one piece to the WAL.</summary>
/// <param name="DeviceId">The device all messages belong to.</param>
/// <param name="Messages">The enriched messages in sequence order.</param>
public sealed record WalAppend(string DeviceId, IReadOnlyList<WalMessage> Messages)
{
    /// <summary>Deliveries the batch creates: one per message and route.</summary>
    public long Deliveries
    {
        get
        {
            long deliveries = 0;
            foreach (var message in Messages)
            {
                deliveries += message.Routes.Count;
            }

            return deliveries;
        }
    }

    /// <summary>Payload bytes of those deliveries, for the byte high-water mark.</summary>
    public long DeliveryBytes
    {
        get
        {
            long bytes = 0;
            foreach (var message in Messages)
            {
                bytes += (long)message.Payload.Length * message.Routes.Count;
            }

            return bytes;
        }
    }
}

/// <summary>
/// One message as the device grain enriched it, ready to be stored, with the partitions (one per sink) it is delivered
/// through and the priority of its lane (<see cref="Lanes.Lane"/>), by which each partition sends it.
/// </summary>
public sealed record WalMessage(
    string MessageId,
    long Sequence,
    string? DeviceMessageId,
    DateTimeOffset ReceivedAt,
    string ContentType,
    ReadOnlyMemory<byte> Payload,
    string? TraceParent,
    string Topic,
    IReadOnlyList<PartitionKey> Routes,
    int Lane = Lanes.Lane.DefaultPriority)
{
    /// <summary>
    /// The payload as a whole array, for drivers that bind only whole arrays (SQLite, Npgsql): the payload's own
    /// array when it spans all of it, else a copy.
    /// </summary>
    internal byte[] PayloadArray() =>
        MemoryMarshal.TryGetArray(Payload, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : Payload.ToArray();
}

/// <summary>A message the device sent recently, remembered to drop its retransmissions.</summary>
public sealed record RecentDeviceMessage(string DeviceMessageId, string MessageId, long Sequence, DateTimeOffset ReceivedAt);
