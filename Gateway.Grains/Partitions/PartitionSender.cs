using Gateway.Sinks;
using Gateway.Telemetry;
using Gateway.Wal;
using Microsoft.Extensions.Logging;

namespace Gateway.Partitions;

/// <summary>
/// One partition's send loop as an explicit state machine (<see cref="PartitionSendState"/>): it leases the next
/// records (the highest lane first, each lane in WAL order), sends them as one batch, and acks them; while another
/// partition of the sink has a higher lane to send, its <see cref="LaneGate"/> holds it back. A failed batch is retried (exponential
/// backoff with jitter) before anything behind it, so a device's records never overtake each other; an open circuit
/// is waited out without leasing; a paused sink leases nothing. Every event (a wake, the timer, the circuit closing, a
/// pause or resume) is one method, and each decides the next state from the current one alone, so an event that
/// arrives during a send (a pause, a wake) is kept for when the send ends instead of changing it halfway.
/// </summary>
/// <remarks>
/// Not thread-safe: the grain that hosts it calls it one event at a time, except <see cref="SetPaused"/>, which may
/// arrive while <see cref="SendDueAsync"/> awaits the sink, on the same activation's scheduler.
/// </remarks>
public sealed partial class PartitionSender
{
    private readonly PartitionKey _key;
    private readonly ISink _sink;
    private readonly SinkCircuit _circuit;
    private readonly IDeliveryLog _wal;
    private readonly IPartitionSenderHost _host;
    private readonly long _leaseholder;
    private readonly DeliveryOptions _options;
    private readonly RetryBackoff _backoff;
    private readonly BackingOffPartitions _backingOff;
    private readonly LaneGate _laneGate;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>How soon a partition held back by its <see cref="LaneGate"/> looks again.</summary>
    public static readonly TimeSpan HeldBackRecheck = TimeSpan.FromMilliseconds(250);

    private bool _paused;
    private bool _wokenWhileSending;
    private bool _mayHoldLeases;
    private int? _retryBatchSize;
    private int _consecutiveFailures;
    private long _delivered;
    private long _deadLettered;
    private string? _lastError;

    /// <param name="leaseholder">The hosting activation's token in the WAL (see <see cref="IDeliveryLog.ClaimAsync"/>).</param>
    /// <param name="paused">Whether the sink is paused when the sender starts.</param>
    public PartitionSender(
        PartitionKey key,
        ISink sink,
        SinkCircuit circuit,
        IDeliveryLog wal,
        IPartitionSenderHost host,
        long leaseholder,
        bool paused,
        DeliveryOptions options,
        RetryBackoff backoff,
        BackingOffPartitions backingOff,
        LaneGate laneGate,
        GatewayMetrics metrics,
        TimeProvider time,
        ILogger logger)
    {
        _key = key;
        _sink = sink;
        _circuit = circuit;
        _wal = wal;
        _host = host;
        _leaseholder = leaseholder;
        _paused = paused;
        _options = options;
        _backoff = backoff;
        _backingOff = backingOff;
        _laneGate = laneGate;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        State = paused ? PartitionSendState.Paused : PartitionSendState.Idle;
    }

    /// <summary>Where the loop stands.</summary>
    public PartitionSendState State { get; private set; }

    /// <summary>When the scheduled send, retry or circuit probe runs; null when none is due.</summary>
    public DateTimeOffset? DueAt { get; private set; }

    /// <summary>The partition's delivery state as the admin API shows it.</summary>
    public PartitionStatus Status => new(_key, _delivered, _deadLettered, _consecutiveFailures,
        State is PartitionSendState.BackingOff or PartitionSendState.WaitingForCircuit ? DueAt : null,
        _lastError, _circuit.State.ToString()) { Paused = _paused };

    /// <summary>The partition was claimed: look for records now (a restart may have left some).</summary>
    public void Start()
    {
        if (!_paused)
        {
            ScheduleSend(TimeSpan.Zero);
        }
    }

    /// <summary>
    /// New records may be waiting. An idle or scheduled partition sends at the next linger tick; a backoff, a circuit
    /// wait and a pause keep their own time (waking early would hammer a failing sink); during a send the partition
    /// looks again when it ends.
    /// </summary>
    public void Wake()
    {
        switch (State)
        {
            case PartitionSendState.Idle:
            case PartitionSendState.Scheduled:
                ScheduleLingeringSend();
                break;
            case PartitionSendState.Sending:
                _wokenWhileSending = true;
                break;
        }
    }

    /// <summary>
    /// The sink's circuit closed: a partition waiting on it, or backing off from the outage that opened it, sends now, so
    /// that every partition resumes together when the sink is back (and its highest lanes go first).
    /// </summary>
    public void CircuitClosed()
    {
        _laneGate.SinkRecovered();
        if (State is PartitionSendState.WaitingForCircuit or PartitionSendState.BackingOff)
        {
            ScheduleSend(TimeSpan.Zero);
        }
    }

    /// <summary>
    /// The sink was paused (lease nothing more) or resumed (send what is waiting, starting afresh: a retry or circuit
    /// wait that came due while paused did nothing). During a send the batch finishes and is settled; the pause holds
    /// from then on.
    /// </summary>
    public void SetPaused(bool paused)
    {
        _paused = paused;
        if (State == PartitionSendState.Sending)
        {
            return;
        }

        if (paused)
        {
            EnterPaused();
        }
        else if (State == PartitionSendState.Paused)
        {
            ScheduleSend(TimeSpan.Zero);
        }
    }

    /// <summary>The timer came due: sends one batch (or waits on the circuit) and schedules what comes next.</summary>
    public async Task SendDueAsync(CancellationToken cancellationToken)
    {
        if (State is not (PartitionSendState.Scheduled or PartitionSendState.BackingOff or PartitionSendState.WaitingForCircuit))
        {
            // A timer of a state left since (a pause, an idle look that found nothing).
            return;
        }

        State = PartitionSendState.Sending;
        DueAt = null;
        _wokenWhileSending = false;
        try
        {
            await SendBatchAsync(cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // The WAL itself failed (disk, I/O). Records leased but not settled may still be leased; they go back to
            // the head of the queue before the next attempt so that order holds.
            _mayHoldLeases = true;
            _lastError = error.Message;
            var delay = _backoff.Next(++_consecutiveFailures);
            LogWalFailed(_logger, error, _key.Sink, _key.Partition, delay);
            BackOff(delay);
        }
        finally
        {
            if (State == PartitionSendState.Sending)
            {
                // Cancelled (the activation is going away): nothing more is scheduled.
                State = PartitionSendState.Idle;
            }

            if (_paused)
            {
                EnterPaused();
            }
        }
    }

    private async Task SendBatchAsync(CancellationToken cancellationToken)
    {
        if (_mayHoldLeases)
        {
            await _wal.RecoverInFlightAsync(_key, _leaseholder);
            _mayHoldLeases = false;
        }

        if (!_circuit.TryEnter(out var circuitWait))
        {
            // The sink is known to be down: wait out the open circuit without leasing, so an outage costs no attempts
            // and no polling. The jitter spreads the partitions' probes.
            WaitForCircuit(circuitWait + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 250)));
            return;
        }

        var outcome = DeliveryOutcome.Delivered;
        var sent = false;
        try
        {
            (sent, outcome) = await LeaseAndSendAsync(cancellationToken);
        }
        finally
        {
            if (!sent)
            {
                _circuit.OnNothingSent();
            }
            else if (outcome == DeliveryOutcome.Retry)
            {
                _circuit.OnFailure();
            }
            else if (_circuit.OnSuccess())
            {
                // Delivered, or refused for good: either way the sink answered. This closed the circuit, so the sink's
                // other partitions stop waiting out the open period.
                _host.WakeSiblings();
            }
        }
    }

    /// <returns>Whether a batch went to the sink, and what became of it.</returns>
    private async Task<(bool Sent, DeliveryOutcome Outcome)> LeaseAndSendAsync(CancellationToken cancellationToken)
    {
        if (await _laneGate.NextLeaseAsync() is not { } lanes)
        {
            // Another partition of the sink sends a higher lane first; look again shortly.
            ScheduleSend(HeldBackRecheck);
            return (false, DeliveryOutcome.Delivered);
        }

        // A retry takes exactly the records that failed (they are back at the head of the queue), so the batch, and
        // with it the sink's idempotency key, is the same on every attempt, unless a higher lane arrived meanwhile:
        // its records then go first, in a batch of the same size.
        var limit = _retryBatchSize ?? _options.BatchSize;
        var batch = await _wal.LeaseAsync(_key, limit, _leaseholder, lanes.LastLane);
        if (batch.Count == 0)
        {
            StopBackingOff();
            FinishSend(moreMayWait: false);
            return (false, DeliveryOutcome.Delivered);
        }

        await _host.KeepReminderAsync();
        using var trace = DeliveryTrace.Start(_key, batch);
        var result = await DeliverAsync(batch, cancellationToken);
        if (result.Outcome == DeliveryOutcome.Delivered)
        {
            await _wal.AckAsync(batch);
            var acked = _time.GetUtcNow();
            foreach (var record in batch)
            {
                _metrics.Delivered(_key.Sink, acked - record.ReceivedAt);
            }

            _delivered += batch.Count;
            _consecutiveFailures = 0;
            StopBackingOff();
            // A full batch, or lower lanes left behind by the lease: more is waiting. Otherwise the lease took everything
            // committed before it, and a record committed since woke the partition (a wake during the send, or one queued
            // behind it).
            FinishSend(moreMayWait: batch.Count == limit || lanes.LowerLanesWait);
            return (true, result.Outcome);
        }

        var now = _time.GetUtcNow();
        var error = result.Error ?? "delivery failed";
        _lastError = error;
        var permanent = result.Outcome == DeliveryOutcome.Permanent;
        trace.Failed(error, permanent);
        var delay = permanent ? TimeSpan.Zero : _backoff.Next(++_consecutiveFailures, result.RetryAfter);
        var dead = await _wal.FailAsync(batch, new DeliveryFailure(error, permanent, now + delay, _options.MaxAttempts, now - _options.MaxAge));
        _deadLettered += dead;
        if (dead > 0)
        {
            _metrics.DeadLettered(_key.Sink, dead);
            LogDeadLettered(_logger, dead, _key.Sink, _key.Partition, error);
        }

        if (batch.Count > dead)
        {
            _metrics.Retried(_key.Sink, batch.Count - dead);
        }

        LogDeliveryFailed(_logger, batch.Count, _key.Sink, _key.Partition, delay, error);
        if (permanent)
        {
            // The sink answered and will never take these: nothing to back off from; the records behind them go next.
            StopBackingOff();
            ScheduleSend(TimeSpan.Zero);
        }
        else
        {
            BackOff(delay);
            // A retry takes exactly the failed batch again, unless some of it is Dead now.
            _retryBatchSize = dead > 0 ? null : batch.Count;
        }

        return (true, result.Outcome);
    }

    private async Task<DeliveryResult> DeliverAsync(IReadOnlyList<WalRecord> batch, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.SendTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await _sink.DeliverAsync(batch, linked.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return DeliveryResult.Retry($"The sink did not answer within {_options.SendTimeout}.");
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            return DeliveryResult.Retry($"{error.GetType().Name}: {error.Message}");
        }
    }

    /// <summary>A send ended without a failure: send again now, at the next tick (woken meanwhile), or go idle.</summary>
    private void FinishSend(bool moreMayWait)
    {
        if (moreMayWait)
        {
            ScheduleSend(TimeSpan.Zero);
        }
        else if (_wokenWhileSending)
        {
            State = PartitionSendState.Idle;
            ScheduleLingeringSend();
        }
        else
        {
            State = PartitionSendState.Idle;
        }
    }

    /// <summary>Sends at the next tick of the <see cref="LingerGrid"/>, unless a send is due sooner.</summary>
    private void ScheduleLingeringSend()
    {
        var now = _time.GetUtcNow();
        var due = LingerGrid.UntilNextTick(now, _options.Linger);
        if (State == PartitionSendState.Scheduled && DueAt is { } scheduled && scheduled <= now + due)
        {
            return;
        }

        ScheduleSend(due);
    }

    /// <summary>Nothing is due while paused: a timer that still fires finds the state and does nothing.</summary>
    private void EnterPaused()
    {
        State = PartitionSendState.Paused;
        DueAt = null;
    }

    private void ScheduleSend(TimeSpan dueTime) => Schedule(PartitionSendState.Scheduled, dueTime);

    private void WaitForCircuit(TimeSpan wait) => Schedule(PartitionSendState.WaitingForCircuit, wait);

    private void BackOff(TimeSpan delay)
    {
        _backingOff.Failing(_key);
        Schedule(PartitionSendState.BackingOff, delay);
    }

    private void Schedule(PartitionSendState state, TimeSpan dueTime)
    {
        State = state;
        DueAt = _time.GetUtcNow() + dueTime;
        _host.ScheduleSend(dueTime);
    }

    private void StopBackingOff()
    {
        _retryBatchSize = null;
        _backingOff.Recovered(_key);
    }

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Delivering {Count} records of {Sink}/{Partition} failed; retrying in {Delay}: {Error}")]
    private static partial void LogDeliveryFailed(ILogger logger, int count, string sink, int partition, TimeSpan delay, string error);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "The WAL failed while sending {Sink}/{Partition}; retrying in {Delay}")]
    private static partial void LogWalFailed(ILogger logger, Exception error, string sink, int partition, TimeSpan delay);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "Dead-lettered {Count} records of {Sink}/{Partition}: {Error}")]
    private static partial void LogDeadLettered(ILogger logger, int count, string sink, int partition, string error);
}
