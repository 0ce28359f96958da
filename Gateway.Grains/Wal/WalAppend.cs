using Gateway.Partitions;

namespace Gateway.Wal;

/// <summary>A device's batch of new messages, appended in one piece to the WAL.</summary>
/// <param name="DeviceId">The device all messages belong to.</param>
/// <param name="Routes">The partitions (one per sink) every message of the batch is delivered through.</param>
/// <param name="Messages">The enriched messages in sequence order.</param>
public sealed record WalAppend(string DeviceId, IReadOnlyList<PartitionKey> Routes, IReadOnlyList<WalMessage> Messages)
{
    /// <summary>Sum of the payload sizes, for the byte high-water mark.</summary>
    public long PayloadBytes
    {
        get
        {
            long bytes = 0;
            foreach (var message in Messages)
            {
                bytes += message.Payload.Length;
            }

            return bytes;
        }
    }
}

/// <summary>One message as the device grain enriched it, ready to be stored.</summary>
public sealed record WalMessage(
    string MessageId,
    long Sequence,
    string? DeviceMessageId,
    DateTimeOffset ReceivedAt,
    string ContentType,
    ReadOnlyMemory<byte> Payload,
    string? TraceParent,
    string Topic);

/// <summary>A message the device sent recently, remembered to drop its retransmissions.</summary>
public sealed record RecentDeviceMessage(string DeviceMessageId, string MessageId, long Sequence, DateTimeOffset ReceivedAt);
