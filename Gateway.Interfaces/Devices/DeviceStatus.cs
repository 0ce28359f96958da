namespace Gateway.Devices;

/// <summary>A device grain's bookkeeping as the admin API and tests see it.</summary>
[GenerateSerializer, Immutable, Alias("Gateway.DeviceStatus")]
public sealed record DeviceStatus(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] DateTimeOffset? FirstSeen,
    [property: Id(2)] DateTimeOffset? LastSeen,
    [property: Id(3)] long AcceptedCount,
    [property: Id(4)] long DuplicateCount,
    [property: Id(5)] long RefusedCount,
    [property: Id(6)] long LastSequence,
    [property: Id(7)] int Partition)
{
    /// <summary>True while an operator has the device disabled: ingest refuses it.</summary>
    [Id(8)]
    public bool Disabled { get; init; }

    /// <summary>The device's deliveries waiting in the WAL (Enqueued or InFlight).</summary>
    [Id(9)]
    public long BufferedCount { get; init; }

    /// <summary>The device's dead deliveries, kept until replayed or purged.</summary>
    [Id(10)]
    public long DeadCount { get; init; }
}
