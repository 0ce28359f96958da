namespace Gateway.Partitions;

/// <summary>Where a partition's send loop (<see cref="PartitionSender"/>) stands.</summary>
public enum PartitionSendState
{
    /// <summary>Nothing was pending at the last look; the next wake schedules a send.</summary>
    Idle = 0,

    /// <summary>A send is due (now, or at the next linger tick).</summary>
    Scheduled = 1,

    /// <summary>A batch is out at the sink; what comes next depends on its outcome.</summary>
    Sending = 2,

    /// <summary>The last batch failed; the same records are retried when the backoff ends, and wakes do not bring it forward.</summary>
    BackingOff = 3,

    /// <summary>The sink's circuit is open: nothing is leased until the open period ends or the circuit closes.</summary>
    WaitingForCircuit = 4,

    /// <summary>The sink is paused: nothing is leased until it resumes.</summary>
    Paused = 5,
}
