namespace Gateway.Wal;

/// <summary>A WAL store the silo opens before any grain runs and closes after the last one stops.</summary>
public interface IOpenableWalStore : IWalStore, IDisposable
{
    /// <summary>Creates or upgrades the store's tables and starts its writer.</summary>
    void Open();
}
