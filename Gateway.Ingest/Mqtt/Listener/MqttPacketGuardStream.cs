namespace Gateway.Ingest.Mqtt.Listener;

/// <summary>
/// Sits between a device's socket (or TLS stream) and MQTTnet and reads every MQTT fixed header as it passes.
/// MQTTnet allocates a packet's whole body as soon as it has read the announced length (up to 256 MB), before
/// it knows who is connecting; this stream refuses a packet whose announced length is over the limit, or
/// whose header is malformed, before MQTTnet sees that length, so an unauthenticated peer costs at most the limit.
/// </summary>
internal sealed class MqttPacketGuardStream(Stream inner, int maxPacketBytes) : Stream
{
    private const int ConnectPacketType = 1;
    private const int PublishPacketType = 3;
    private const int MaxLengthBytes = 4;

    private HeaderPart _part = HeaderPart.TypeAndFlags;
    private bool _firstPacket = true;
    private int _lengthBytes;
    private int _lengthMultiplier = 1;
    private long _remaining;

    /// <summary>Why this stream cut the connection (a metrics reason), or null.</summary>
    public string? RefusalReason { get; private set; }

    /// <summary>True once the server has written anything (a CONNACK at least): the MQTT handshake got an answer.</summary>
    public bool ServerAnswered { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        Inspect(buffer[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Inspect(buffer.Span[..read]);
        return read;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ServerAnswered = true;
        inner.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ServerAnswered = true;
        return inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    // Bytes are checked before the caller gets them: a refused header never reaches MQTTnet's decoder.
    private void Inspect(ReadOnlySpan<byte> bytes)
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

/// <summary>Thrown by <see cref="MqttPacketGuardStream"/> to close a connection that sent a packet it refuses.</summary>
internal sealed class MqttPacketRefusedException(string reason, string detail) : IOException($"MQTT packet refused ({reason}): {detail}")
{
    /// <summary>The metrics reason.</summary>
    public string Reason { get; } = reason;
}
