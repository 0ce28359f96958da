using System.Threading.RateLimiting;
using Gateway.Wal;

namespace Gateway.Sinks;

/// <summary>
/// Paces another sink to at most so many records and payload bytes per second, for metered links. Records
/// wait in the WAL, not in memory, while the limit holds them back.
/// </summary>
public sealed class RateLimitedSink : ISink, IDisposable
{
    private readonly ISink _inner;
    private readonly Bucket? _messages;
    private readonly Bucket? _bytes;

    /// <summary>Wraps <paramref name="inner"/>; a limit of 0 is no limit.</summary>
    public RateLimitedSink(ISink inner, int messagesPerSecond, int bytesPerSecond)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _messages = messagesPerSecond > 0 ? new Bucket(messagesPerSecond) : null;
        _bytes = bytesPerSecond > 0 ? new Bucket(bytesPerSecond) : null;
    }

    /// <inheritdoc />
    public string Name => _inner.Name;

    /// <summary>The wrapped sink.</summary>
    public ISink Inner => _inner;

    /// <inheritdoc />
    public async Task<DeliveryResult> DeliverAsync(IReadOnlyList<WalRecord> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (_messages is not null)
        {
            await _messages.AcquireAsync(batch.Count, cancellationToken).ConfigureAwait(false);
        }

        if (_bytes is not null)
        {
            long bytes = 0;
            foreach (var record in batch)
            {
                bytes += record.Payload.Length;
            }

            await _bytes.AcquireAsync(bytes, cancellationToken).ConfigureAwait(false);
        }

        return await _inner.DeliverAsync(batch, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _messages?.Dispose();
        _bytes?.Dispose();
        (_inner as IDisposable)?.Dispose();
    }

    /// <summary>A token bucket refilled to its per-second rate every second.</summary>
    private sealed class Bucket(int perSecond) : IDisposable
    {
        private readonly TokenBucketRateLimiter _limiter = new(new TokenBucketRateLimiterOptions
        {
            TokenLimit = perSecond,
            TokensPerPeriod = perSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });

        // A batch may need more tokens than the bucket holds: take them a bucketful at a time.
        public async Task AcquireAsync(long permits, CancellationToken cancellationToken)
        {
            while (permits > 0)
            {
                var chunk = (int)Math.Min(permits, perSecond);
                using var lease = await _limiter.AcquireAsync(chunk, cancellationToken).ConfigureAwait(false);
                permits -= chunk;
            }
        }

        public void Dispose() => _limiter.Dispose();
    }
}
