namespace Gateway.Devices;

/// <summary>
/// A device grain's persisted bookkeeping of what the WAL does not record: dropped retransmissions, refused
/// batches, and whether an operator disabled the device. What the WAL does record (sequence, first and last seen, messages stored) is committed with the
/// messages themselves (<see cref="Wal.WalDeviceRecord"/>), so accepting a message writes no grain state.
/// </summary>
[GenerateSerializer, Alias("Gateway.DeviceState")]
public sealed class DeviceState
{
    /// <summary>Retransmissions dropped.</summary>
    [Id(3)] public long DuplicateCount { get; set; }

    /// <summary>Batches refused.</summary>
    [Id(4)] public long RefusedCount { get; set; }

    /// <summary>An operator disabled the device: ingest refuses it until it is enabled.</summary>
    [Id(6)] public bool Disabled { get; set; }
}
