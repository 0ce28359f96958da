using Gateway.Load.Load;

namespace Gateway.Load.Check;

/// <summary>
/// Compares the messages a load run saw acknowledged with what a sink received, in the order it received them.
/// A device's first sighting of each message must come in increasing message number; a message seen again
/// (at-least-once redelivery after a crash) is a duplicate, not an order violation. Devices that no
/// acknowledgement names are another run's and are ignored.
/// </summary>
internal sealed class DeliveryCheck
{
    private const int ExamplesKept = 5;
    private readonly Dictionary<string, HashSet<long>> _acknowledged = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeviceDelivery> _received = new(StringComparer.Ordinal);
    private readonly List<string> _orderExamples = [];
    private long _acknowledgedCount;
    private long _receivedRecords;
    private long _duplicates;
    private long _outOfOrder;
    private long _unreadable;

    /// <summary>Notes that the gateway acknowledged <paramref name="key"/> (a key noted twice counts once).</summary>
    public void Acknowledged(MessageKey key)
    {
        if (!_acknowledged.TryGetValue(key.DeviceId, out var numbers))
        {
            _acknowledged[key.DeviceId] = numbers = [];
        }

        if (numbers.Add(key.Number))
        {
            _acknowledgedCount++;
        }
    }

    /// <summary>Notes the sink's next record; call in the order the sink received them. Acknowledgements must all be noted first.</summary>
    public void Received(MessageKey key)
    {
        if (!_acknowledged.ContainsKey(key.DeviceId))
        {
            return;
        }

        _receivedRecords++;
        if (!_received.TryGetValue(key.DeviceId, out var device))
        {
            _received[key.DeviceId] = device = new DeviceDelivery();
        }

        if (!device.Seen.Add(key.Number))
        {
            _duplicates++;
            return;
        }

        if (key.Number < device.Highest)
        {
            _outOfOrder++;
            if (_orderExamples.Count < ExamplesKept)
            {
                _orderExamples.Add($"{key.DeviceId}: {key.Number} after {device.Highest}");
            }
        }

        device.Highest = Math.Max(device.Highest, key.Number);
    }

    /// <summary>Counts a sink line that could not be read (a line torn by a crash mid-write).</summary>
    public void Unreadable() => _unreadable++;

    public CheckResult Result()
    {
        var missing = 0L;
        var missingExamples = new List<string>();
        var unacknowledgedDelivered = 0L;
        foreach (var (deviceId, numbers) in _acknowledged)
        {
            var seen = _received.TryGetValue(deviceId, out var device) ? device.Seen : [];
            foreach (var number in numbers)
            {
                if (!seen.Contains(number))
                {
                    missing++;
                    if (missingExamples.Count < ExamplesKept)
                    {
                        missingExamples.Add(new MessageKey(deviceId, number).ToLine());
                    }
                }
            }

            unacknowledgedDelivered += seen.Count(number => !numbers.Contains(number));
        }

        return new CheckResult(_acknowledgedCount, _receivedRecords, missing, _duplicates, _outOfOrder, unacknowledgedDelivered, _unreadable,
            missingExamples, _orderExamples);
    }

    private sealed class DeviceDelivery
    {
        public HashSet<long> Seen { get; } = [];

        public long Highest { get; set; }
    }
}
