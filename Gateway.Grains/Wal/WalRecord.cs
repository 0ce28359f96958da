namespace Gateway.Wal;

/// <summary>A delivery leased from the WAL: one message on its way to one sink.</summary>
public sealed class WalRecord
{
    /// <summary>The delivery row; acks and failures name it.</summary>
    public required long DeliveryId { get; init; }

    /// <summary>Stable id sent upstream so receivers can drop duplicates.</summary>
    public required string MessageId { get; init; }

    /// <summary>The device that sent the message.</summary>
    public required string DeviceId { get; init; }

    /// <summary>Per-device sequence number.</summary>
    public required long Sequence { get; init; }

    /// <summary>When the gateway accepted the message.</summary>
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>Media type; <c>application/json</c> payloads are valid JSON.</summary>
    public required string ContentType { get; init; }

    /// <summary>The message body as the device sent it.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>
    /// W3C traceparent the message was ingested under: the gateway's ingest span (a child of the device's
    /// publish when it sent one) with tracing on, else the device's own, if it sent one.
    /// </summary>
    public string? TraceParent { get; init; }

    /// <summary>The topic the device published to.</summary>
    public required string Topic { get; init; }

    /// <summary>The priority of the record's lane (<see cref="Lanes.Lane"/>).</summary>
    public int Lane { get; init; } = Lanes.Lane.DefaultPriority;

    /// <summary>Failed delivery attempts before this lease.</summary>
    public int Attempts { get; init; }

    /// <summary>When this lease was taken: the start of the delivery attempt.</summary>
    public DateTimeOffset LeasedAt { get; init; }

    /// <summary>True when <see cref="Payload"/> is JSON and can be embedded as-is.</summary>
    public bool IsJson => ContentType == MediaTypes.Json;

    /// <summary>
    /// Reads a leased row whose columns are, in order: delivery id, attempts, message id, device id, sequence,
    /// received at (Unix ms), content type, payload, traceparent, topic, lane. Both stores' lease queries select these.
    /// </summary>
    internal static WalRecord FromLeasedRow(System.Data.IDataRecord row, DateTimeOffset leasedAt) => new()
    {
        LeasedAt = leasedAt,
        DeliveryId = row.GetInt64(0),
        Attempts = row.GetInt32(1),
        MessageId = row.GetString(2),
        DeviceId = row.GetString(3),
        Sequence = row.GetInt64(4),
        ReceivedAt = DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(5)),
        ContentType = row.GetString(6),
        Payload = (byte[])row.GetValue(7),
        TraceParent = row.IsDBNull(8) ? null : row.GetString(8),
        Topic = row.GetString(9),
        Lane = row.GetInt32(10),
    };
}
