namespace Gateway.Partitions;

/// <summary>A partition grain's delivery state.</summary>
/// <param name="Key">Sink and partition number.</param>
/// <param name="Delivered">Records acknowledged by the sink since activation.</param>
/// <param name="DeadLettered">Records dead-lettered since activation.</param>
/// <param name="ConsecutiveFailures">Failed batches in a row; zero while the sink is healthy.</param>
/// <param name="NextAttemptAt">When the next retry runs, while backing off.</param>
/// <param name="LastError">The last delivery error, if any.</param>
/// <param name="Circuit">The sink's circuit breaker on this silo: Closed, Open or HalfOpen.</param>
[GenerateSerializer, Immutable, Alias("Gateway.PartitionStatus")]
public sealed record PartitionStatus(
    [property: Id(0)] PartitionKey Key,
    [property: Id(1)] long Delivered,
    [property: Id(2)] long DeadLettered,
    [property: Id(3)] int ConsecutiveFailures,
    [property: Id(4)] DateTimeOffset? NextAttemptAt,
    [property: Id(5)] string? LastError,
    [property: Id(6)] string Circuit)
{
    /// <summary>True while the partition's sink is paused: it leases nothing.</summary>
    [Id(7)]
    public bool Paused { get; init; }
}
