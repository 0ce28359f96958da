namespace Gateway.Devices;

/// <summary>
/// A device grain's persisted bookkeeping of what the WAL does not record: dropped retransmissions and refused
/// batches. What the WAL does record (sequence, first and last seen, messages stored) is committed with the
/// messages themselves (<see cref="Wal.WalDeviceRecord"/>), so accepting a message writes no grain state.
/// </summary>
[GenerateSerializer, Alias("Gateway.DeviceState")]
public sealed class DeviceState
{
    /// <summary>Retransmissions dropped.</summary>
    [Id(3)] public long DuplicateCount { get; set; }

    /// <summary>Batches refused.</summary>
    [Id(4)] public long RefusedCount { get; set; }
}
