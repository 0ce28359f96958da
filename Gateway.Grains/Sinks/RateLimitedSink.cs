using Gateway.Wal;

namespace Gateway.Sinks;

/// <summary>
/// Paces another sink to at most so many records and payload bytes per second, for metered links. Records
/// wait in the WAL, not in memory, while the limit holds them back.
/// </summary>
public sealed class RateLimitedSink : ISink, IDisposable
{
    private readonly ISink _inner;
    private readonly TimeProvider _time;
    private readonly TokenBucket? _messages;
    private readonly TokenBucket? _bytes;

    /// <summary>Wraps <paramref name="inner"/>; a limit of 0 is no limit. Waits are measured on <paramref name="time"/>.</summary>
    public RateLimitedSink(ISink inner, int messagesPerSecond, int bytesPerSecond, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfNegative(messagesPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegative(bytesPerSecond);
        _inner = inner;
        _time = time;
        _messages = messagesPerSecond > 0 ? new TokenBucket(messagesPerSecond, time) : null;
        _bytes = bytesPerSecond > 0 ? new TokenBucket(bytesPerSecond, time) : null;
    }

    /// <inheritdoc />
    public string Name => _inner.Name;

    /// <summary>The wrapped sink.</summary>
    public ISink Inner => _inner;

    /// <inheritdoc />
    public async Task<DeliveryResult> DeliverAsync(IReadOnlyList<WalRecord> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        long bytes = 0;
        if (_bytes is not null)
        {
            foreach (var record in batch)
            {
                bytes += record.Payload.Length;
            }
        }

        // Both budgets are taken at once and the send waits for the later of the two: one wait, whatever the
        // limits, so the send goes the moment the clock reaches it.
        var wait = TimeSpan.Zero;
        if (_messages is not null)
        {
            wait = _messages.Take(batch.Count);
        }

        if (_bytes is not null)
        {
            var bytesWait = _bytes.Take(bytes);
            wait = bytesWait > wait ? bytesWait : wait;
        }

        if (wait > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Nothing was sent: the budget goes back, so the next send is not held for it.
                _messages?.Return(batch.Count);
                _bytes?.Return(bytes);
                throw;
            }
        }

        return await _inner.DeliverAsync(batch, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        (_inner as IDisposable)?.Dispose();
    }

    /// <summary>
    /// A token bucket that holds a second's worth of tokens and refills continuously at its rate, measured on a
    /// <see cref="TimeProvider"/> so that a fake clock drives the refill. It keeps the tokens owed rather than the
    /// tokens held: a send adds what it takes and waits until the debt has drained back to one bucketful, so a
    /// batch larger than the bucket passes a bucketful per second, and sends queue in the order they asked
    /// without holding a lock while they wait.
    /// </summary>
    private sealed class TokenBucket(int perSecond, TimeProvider time)
    {
        // Debt is counted in units of 1/TicksPerSecond of a token, so one elapsed tick repays exactly perSecond
        // units and the wait for any debt is an exact number of ticks.
        private readonly long _capacity = perSecond * TimeSpan.TicksPerSecond;
        private readonly Lock _lock = new();
        private long _debt;
        private long _repaidAt = time.GetTimestamp();

        /// <summary>Takes <paramref name="permits"/> tokens and returns how long the caller must wait before it uses them.</summary>
        public TimeSpan Take(long permits)
        {
            lock (_lock)
            {
                Repay();
                _debt += permits * TimeSpan.TicksPerSecond;
                if (_debt <= _capacity)
                {
                    return TimeSpan.Zero;
                }

                // Timers (the system's and FakeTimeProvider's) count whole milliseconds and drop the rest: round up,
                // so a send is never let go before its tokens are there.
                var ticks = (_debt - _capacity + perSecond - 1) / perSecond;
                return TimeSpan.FromMilliseconds((ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond);
            }
        }

        /// <summary>Gives back tokens a caller took but did not use.</summary>
        public void Return(long permits)
        {
            lock (_lock)
            {
                Repay();
                _debt = Math.Max(0, _debt - (permits * TimeSpan.TicksPerSecond));
            }
        }

        private void Repay()
        {
            var now = time.GetTimestamp();
            var elapsed = Math.Max(0, time.GetElapsedTime(_repaidAt, now).Ticks);
            _repaidAt = now;
            // Checking the time first keeps elapsed * perSecond in range after a long idle spell.
            _debt = elapsed >= (_debt / perSecond) + 1 ? 0 : Math.Max(0, _debt - (elapsed * perSecond));
        }
    }
}
