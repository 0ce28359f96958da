namespace Gateway.Devices;

/// <summary>One device's entry point: validates, sequences and durably stores what the device sends.</summary>
/// <remarks>Keyed by device id (see <see cref="DeviceId"/>).</remarks>
[Alias("Gateway.IDeviceGrain")]
public interface IDeviceGrain : IGrainWithStringKey
{
    /// <summary>
    /// Accepts a batch of messages as one unit: either every message is committed to the WAL before
    /// this returns, or none is and the result names why.
    /// </summary>
    [Alias("AcceptAsync")]
    Task<AcceptResult> AcceptAsync(IReadOnlyList<IncomingMessage> messages);

    /// <summary>The device's bookkeeping: first/last seen, counts, last sequence, partition.</summary>
    [Alias("GetStatusAsync")]
    Task<DeviceStatus> GetStatusAsync();

    /// <summary>Disables (refused at ingest with <see cref="RefusalReason.DeviceDisabled"/>) or enables the device; persisted before it returns.</summary>
    [Alias("SetDisabledAsync")]
    Task<DeviceStatus> SetDisabledAsync(bool disabled);
}
