namespace Gateway.Wal;

/// <summary>The lifecycle of one delivery in the WAL; the numbers are stored, never renumber them.</summary>
public enum DeliveryState
{
    /// <summary>Waiting to be sent.</summary>
    Enqueued = 0,

    /// <summary>Leased by its partition and being sent.</summary>
    InFlight = 1,

    /// <summary>The sink acknowledged it.</summary>
    Acked = 2,

    /// <summary>Given up on: kept with its reason until replayed or purged.</summary>
    Dead = 3,
}
