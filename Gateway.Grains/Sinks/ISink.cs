using Gateway.Wal;

namespace Gateway.Sinks;

/// <summary>A destination for telemetry. A partition hands it one batch at a time, in WAL order.</summary>
public interface ISink
{
    /// <summary>The configured sink name.</summary>
    string Name { get; }

    /// <summary>
    /// Delivers the batch. Returns <see cref="DeliveryResult.Delivered"/> only once the destination holds
    /// every record durably; throwing counts as a retryable failure.
    /// </summary>
    /// <remarks>
    /// Runs with <see cref="System.Diagnostics.Activity.Current"/> set to the batch's <c>send {sink}</c> span (when
    /// tracing is on), a descendant of the first record's stored trace context: an upstream request must carry it
    /// (HttpClient sends it as <c>traceparent</c> by itself; an MQTT sink sets a <c>traceparent</c> user property
    /// from it). Each record's own <see cref="WalRecord.TraceParent"/> goes in the body, for receivers that split batches.
    /// </remarks>
    Task<DeliveryResult> DeliverAsync(IReadOnlyList<WalRecord> batch, CancellationToken cancellationToken);
}

/// <summary>What a sink made of a batch.</summary>
/// <param name="Outcome">Delivered, retry later, or never.</param>
/// <param name="Error">Why it failed.</param>
/// <param name="RetryAfter">A delay the destination asked for.</param>
public sealed record DeliveryResult(DeliveryOutcome Outcome, string? Error = null, TimeSpan? RetryAfter = null)
{
    /// <summary>The destination holds the batch.</summary>
    public static readonly DeliveryResult Delivered = new(DeliveryOutcome.Delivered);

    /// <summary>A failure worth retrying.</summary>
    public static DeliveryResult Retry(string error, TimeSpan? retryAfter = null) => new(DeliveryOutcome.Retry, error, retryAfter);

    /// <summary>A failure no retry will fix: the records are dead-lettered.</summary>
    public static DeliveryResult Permanent(string error) => new(DeliveryOutcome.Permanent, error);
}

/// <summary>The kinds of <see cref="DeliveryResult"/>.</summary>
public enum DeliveryOutcome
{
    /// <summary>Delivered.</summary>
    Delivered,

    /// <summary>Retry with backoff.</summary>
    Retry,

    /// <summary>Dead-letter now.</summary>
    Permanent,
}
