namespace Gateway.Devices;

/// <summary>
/// A device grain's persisted bookkeeping. Small and bounded: the messages themselves live in the WAL,
/// so writing this costs the same whatever the backlog.
/// </summary>
[GenerateSerializer, Alias("Gateway.DeviceState")]
public sealed class DeviceState
{
    /// <summary>When the device was first accepted from.</summary>
    [Id(0)] public DateTimeOffset? FirstSeen { get; set; }

    /// <summary>When the device last sent anything accepted.</summary>
    [Id(1)] public DateTimeOffset? LastSeen { get; set; }

    /// <summary>Messages stored.</summary>
    [Id(2)] public long AcceptedCount { get; set; }

    /// <summary>Retransmissions dropped.</summary>
    [Id(3)] public long DuplicateCount { get; set; }

    /// <summary>Batches refused.</summary>
    [Id(4)] public long RefusedCount { get; set; }

    /// <summary>Highest sequence given out, as of the last write (the WAL holds the authoritative value).</summary>
    [Id(5)] public long LastSequence { get; set; }

    /// <summary>An operator disabled the device: ingest refuses it until it is enabled.</summary>
    [Id(6)] public bool Disabled { get; set; }
}
