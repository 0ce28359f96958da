namespace Gateway.Sinks;

/// <summary>
/// A sink's circuit breaker, shared by its partitions on this silo: after a run of failed batches it opens
/// and nothing is sent until the open period ends; then one partition sends a probe batch, and its result
/// closes the circuit or opens it again. Partitions that find it open wait instead of leasing records, so
/// an outage costs no attempts and no CPU.
/// </summary>
public sealed class SinkCircuit(int failureThreshold, TimeSpan openDuration, TimeProvider time)
{
    private readonly Lock _lock = new();
    private CircuitState _state = CircuitState.Closed;
    private int _consecutiveFailures;
    private DateTimeOffset _openUntil;

    /// <summary>The state as metrics and the admin API see it.</summary>
    public CircuitState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>
    /// Asks to send a batch. True: go ahead (as the probe, when the circuit was open). False: wait
    /// <paramref name="retryAfter"/> and ask again.
    /// </summary>
    public bool TryEnter(out TimeSpan retryAfter)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            retryAfter = TimeSpan.Zero;
            switch (_state)
            {
                case CircuitState.Closed:
                    return true;
                case CircuitState.Open when now >= _openUntil:
                    _state = CircuitState.HalfOpen;
                    return true;
                case CircuitState.Open:
                    retryAfter = _openUntil - now;
                    return false;
                default:
                    // A probe is out; others wait for its answer rather than pile onto a sink that may be down.
                    retryAfter = openDuration;
                    return false;
            }
        }
    }

    /// <summary>A batch was delivered: the circuit closes.</summary>
    /// <returns>True when this closed a circuit that was open or half-open: partitions waiting on it may go.</returns>
    public bool OnSuccess()
    {
        lock (_lock)
        {
            var wasOpen = _state != CircuitState.Closed;
            _consecutiveFailures = 0;
            _state = CircuitState.Closed;
            return wasOpen;
        }
    }

    /// <summary>A batch failed in a way that says the sink is unwell (not a record the sink rejects).</summary>
    public void OnFailure()
    {
        lock (_lock)
        {
            _consecutiveFailures++;
            if (_state == CircuitState.HalfOpen || _consecutiveFailures >= failureThreshold)
            {
                _state = CircuitState.Open;
                _openUntil = time.GetUtcNow() + openDuration;
            }
        }
    }

    /// <summary>The caller entered but had nothing to send: a probe it held goes to the next caller.</summary>
    public void OnNothingSent()
    {
        lock (_lock)
        {
            if (_state == CircuitState.HalfOpen)
            {
                _state = CircuitState.Open;
                _openUntil = time.GetUtcNow();
            }
        }
    }
}

/// <summary>States of a <see cref="SinkCircuit"/>.</summary>
public enum CircuitState
{
    /// <summary>Sending normally.</summary>
    Closed = 0,

    /// <summary>Not sending until the open period ends.</summary>
    Open = 1,

    /// <summary>One probe batch is out.</summary>
    HalfOpen = 2,
}
