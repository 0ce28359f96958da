namespace Gateway.Ingest.Mqtt.Listener;

/// <summary>
/// Reads every MQTT fixed header of what a device sends, as it passes to MQTTnet. MQTTnet allocates a packet's
/// whole body as soon as it has read the announced length (up to 256 MB), before it knows who is connecting;
/// the guard refuses a packet whose announced length is over the limit, or whose header is malformed, before
/// MQTTnet sees that length, so an unauthenticated peer costs at most the limit.
/// </summary>
internal sealed class MqttPacketGuard(int maxPacketBytes)
{
    private const int ConnectPacketType = 1;
    private const int PublishPacketType = 3;
    private const int MaxLengthBytes = 4;

    private HeaderPart _part = HeaderPart.TypeAndFlags;
    private bool _firstPacket = true;
    private int _lengthBytes;
    private int _lengthMultiplier = 1;
    private long _remaining;

    /// <summary>Why the guard cut the connection (a metrics reason), or null.</summary>
    public string? RefusalReason { get; private set; }

    /// <summary>Follows the bytes just read; throws <see cref="MqttPacketRefusedException"/> before a refused header reaches MQTTnet.</summary>
    public void Inspect(ReadOnlySpan<byte> bytes)
    {
        var index = 0;
        while (index < bytes.Length)
        {
            switch (_part)
            {
                case HeaderPart.TypeAndFlags:
                    CheckTypeAndFlags(bytes[index++]);
                    _part = HeaderPart.RemainingLength;
                    _lengthBytes = 0;
                    _lengthMultiplier = 1;
                    _remaining = 0;
                    break;
                case HeaderPart.RemainingLength:
                    var next = bytes[index++];
                    _remaining += (next & 0x7F) * (long)_lengthMultiplier;
                    _lengthMultiplier *= 128;
                    _lengthBytes++;
                    if ((next & 0x80) != 0)
                    {
                        if (_lengthBytes == MaxLengthBytes)
                        {
                            Refuse("malformed-packet", "the remaining length runs over four bytes");
                        }

                        break;
                    }

                    if (_remaining > maxPacketBytes)
                    {
                        Refuse("packet-too-large", $"a packet announced {_remaining} bytes, over the limit of {maxPacketBytes}");
                    }

                    _part = _remaining == 0 ? HeaderPart.TypeAndFlags : HeaderPart.Body;
                    break;
                default:
                    var take = (int)Math.Min(_remaining, bytes.Length - index);
                    index += take;
                    _remaining -= take;
                    if (_remaining == 0)
                    {
                        _part = HeaderPart.TypeAndFlags;
                    }

                    break;
            }
        }
    }

    private void CheckTypeAndFlags(byte header)
    {
        var type = header >> 4;
        var flags = header & 0x0F;
        if (_firstPacket && type != ConnectPacketType)
        {
            Refuse("malformed-packet", $"the first packet is of type {type}, not CONNECT");
        }

        _firstPacket = false;
        var valid = type switch
        {
            0 => false,
            PublishPacketType => (flags & 0b0110) != 0b0110, // QoS 3 does not exist
            6 or 8 or 10 => flags == 0b0010, // PUBREL, SUBSCRIBE, UNSUBSCRIBE carry fixed flags
            _ => flags == 0,
        };
        if (!valid)
        {
            Refuse("malformed-packet", $"packet type {type} with flags {flags:x}");
        }
    }

    private void Refuse(string reason, string detail)
    {
        RefusalReason = reason;
        throw new MqttPacketRefusedException(reason, detail);
    }

    private enum HeaderPart
    {
        TypeAndFlags,
        RemainingLength,
        Body,
    }
}

/// <summary>Thrown by <see cref="MqttPacketGuard"/> to close a connection that sent a packet it refuses.</summary>
internal sealed class MqttPacketRefusedException(string reason, string detail) : IOException($"MQTT packet refused ({reason}): {detail}")
{
    /// <summary>The metrics reason.</summary>
    public string Reason { get; } = reason;
}
