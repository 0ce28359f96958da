namespace Gateway.Wal;

/// <summary>A WAL store: the delivery log and its admin side over one database (SQLite or PostgreSQL).</summary>
public interface IWalStore : IDeliveryLog, IWalAdmin;
