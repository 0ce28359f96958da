namespace Gateway.Devices;

/// <summary>What became of a batch handed to <see cref="IDeviceGrain.AcceptAsync"/>.</summary>
/// <param name="Refusal">Why the whole batch was refused, or <see cref="RefusalReason.None"/> when it was stored.</param>
/// <param name="Detail">A sentence for the sender naming what was wrong; null when accepted.</param>
/// <param name="Messages">One entry per message, in order, when accepted; empty when refused.</param>
[GenerateSerializer, Immutable, Alias("Gateway.AcceptResult")]
public sealed record AcceptResult(
    [property: Id(0)] RefusalReason Refusal,
    [property: Id(1)] string? Detail,
    [property: Id(2)] IReadOnlyList<AcceptedMessage> Messages)
{
    /// <summary>For refusals that pass (backpressure, storage): when the sender should try again.</summary>
    [Id(3)]
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>True when every message of the batch is durable (or was already, for duplicates).</summary>
    public bool IsAccepted => Refusal == RefusalReason.None;

    /// <summary>A refusal of the whole batch.</summary>
    public static AcceptResult Refused(RefusalReason reason, string detail) => new(reason, detail, []);
}

/// <summary>One stored message: its gateway-assigned id and per-device sequence.</summary>
/// <param name="MessageId">Stable id sent upstream with every delivery.</param>
/// <param name="Sequence">Per-device sequence number, strictly increasing.</param>
/// <param name="Duplicate">True when the device had already sent this message (same device message id) and the
/// original id is returned instead of storing it again.</param>
[GenerateSerializer, Immutable, Alias("Gateway.AcceptedMessage")]
public sealed record AcceptedMessage(
    [property: Id(0)] string MessageId,
    [property: Id(1)] long Sequence,
    [property: Id(2)] bool Duplicate);

/// <summary>Why a batch was refused; every refusal is one of these so adapters map it to a protocol code.</summary>
[GenerateSerializer, Alias("Gateway.RefusalReason")]
public enum RefusalReason
{
    /// <summary>Not refused.</summary>
    None = 0,

    /// <summary>The device id breaks the <see cref="DeviceId"/> rules.</summary>
    InvalidDeviceId = 1,

    /// <summary>The batch holds no message.</summary>
    EmptyBatch = 2,

    /// <summary>A message is larger than the configured limit.</summary>
    PayloadTooLarge = 3,

    /// <summary>A message declared as JSON does not parse.</summary>
    MalformedJson = 4,

    /// <summary>The WAL is above its high-water mark (messages or bytes): retry later.</summary>
    Backpressure = 5,

    /// <summary>The data folder's disk is below its free-space floor: retry later.</summary>
    DiskFull = 6,

    /// <summary>The WAL could not commit (I/O error): nothing was stored, retry later.</summary>
    StorageUnavailable = 7,

    /// <summary>No configured sink takes the message's topic and device: there is nowhere to deliver it.</summary>
    NoRoute = 8,

    /// <summary>An operator disabled the device through the admin API: nothing it sends is stored until it is enabled.</summary>
    DeviceDisabled = 9,
}
