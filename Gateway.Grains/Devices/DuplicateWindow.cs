namespace Gateway.Devices;

/// <summary>
/// The device message ids a device sent recently, bounded by count and age, so a retransmission gets the
/// id the gateway gave the original instead of being stored twice.
/// </summary>
public sealed class DuplicateWindow(int capacity, TimeSpan maxAge)
{
    private readonly Dictionary<string, (AcceptedMessage Message, long Entry)> _byDeviceMessageId = new(StringComparer.Ordinal);
    private readonly Queue<(string DeviceMessageId, long Entry, DateTimeOffset SeenAt)> _order = new();
    private long _nextEntry;

    /// <summary>Ids currently remembered.</summary>
    public int Count => _byDeviceMessageId.Count;

    /// <summary>The stored original of <paramref name="deviceMessageId"/>, if it is inside the window.</summary>
    public bool TryGet(string deviceMessageId, DateTimeOffset now, out AcceptedMessage original)
    {
        while (_order.TryPeek(out var oldest) && now - oldest.SeenAt > maxAge)
        {
            Drop(_order.Dequeue());
        }

        var found = _byDeviceMessageId.TryGetValue(deviceMessageId, out var entry);
        original = entry.Message;
        return found;
    }

    /// <summary>Remembers a stored message; the oldest id leaves when the window is full.</summary>
    public void Remember(string deviceMessageId, AcceptedMessage stored, DateTimeOffset seenAt)
    {
        if (capacity == 0 || _byDeviceMessageId.ContainsKey(deviceMessageId))
        {
            return;
        }

        var entry = _nextEntry++;
        _byDeviceMessageId[deviceMessageId] = (stored, entry);
        _order.Enqueue((deviceMessageId, entry, seenAt));
        while (_byDeviceMessageId.Count > capacity && _order.TryDequeue(out var oldest))
        {
            Drop(oldest);
        }
    }

    /// <summary>Forgets an id whose message was not stored after all (its commit failed).</summary>
    public void Forget(string deviceMessageId) => _byDeviceMessageId.Remove(deviceMessageId);

    // A queue entry may be stale (forgotten, or the id remembered again later): drop only the entry it made.
    private void Drop((string DeviceMessageId, long Entry, DateTimeOffset SeenAt) queued)
    {
        if (_byDeviceMessageId.TryGetValue(queued.DeviceMessageId, out var current) && current.Entry == queued.Entry)
        {
            _byDeviceMessageId.Remove(queued.DeviceMessageId);
        }
    }
}
