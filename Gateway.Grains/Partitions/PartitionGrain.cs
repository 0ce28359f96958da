using Gateway.Sinks;
using Gateway.Telemetry;
using Gateway.Wal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Partitions;

/// <summary>
/// Sends one partition's WAL records to its sink, one batch at a time and strictly in WAL order: a failed
/// batch is retried (exponential backoff with jitter on a grain timer) before anything behind it, so a
/// device's records never overtake each other. A durable reminder wakes the partition while it has work,
/// so a restart or a long outage never strands records.
/// </summary>
public sealed partial class PartitionGrain(
    IDeliveryLog wal,
    SinkCatalog sinks,
    BackingOffPartitions backingOff,
    GatewayMetrics metrics,
    IOptions<DeliveryOptions> deliveryOptions,
    TimeProvider time,
    ILogger<PartitionGrain> logger) : Grain, IPartitionGrain, IRemindable
{
    /// <summary>Name of the reminder that wakes the partition while records are pending.</summary>
    public const string PendingWorkReminder = "deliver-pending";

    private readonly DeliveryOptions _options = deliveryOptions.Value;
    private readonly RetryBackoff _backoff = new(deliveryOptions.Value.BackoffBase, deliveryOptions.Value.BackoffCap, Random.Shared);

    // This activation's token in the WAL: after it claims the partition, an earlier activation still running on a
    // silo declared dead can no longer lease or recover the partition's records.
    private readonly long _leaseholder = Random.Shared.NextInt64(1, long.MaxValue);
    private PartitionKey _key;
    private ISink? _sink;
    private IGrainTimer? _sendTimer;
    private DateTimeOffset? _sendDueAt;
    private DateTimeOffset? _retryAt;
    private int _consecutiveFailures;
    private long _delivered;
    private long _deadLettered;
    private string? _lastError;
    private bool _idle;
    private bool _reminderRegistered;
    private bool _mayHoldInFlight;
    private int? _retryBatchSize;
    private bool _waitingForCircuit;
    private bool _paused;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = PartitionKey.Parse(this.GetPrimaryKeyString());
        _sink = sinks.Find(_key.Sink);
        if (_sink is null)
        {
            LogUnknownSink(logger, _key.Sink, _key.Partition);
            return;
        }

        _paused = await GrainFactory.GetGrain<ISinkControlGrain>(_key.Sink).IsPausedAsync();

        // A previous activation may have died mid-send: its InFlight records go back to the head of the queue, and
        // from this commit on only this activation may lease.
        var recovered = await wal.ClaimAsync(_key, _leaseholder);
        if (recovered > 0)
        {
            LogRecovered(logger, recovered, _key.Sink, _key.Partition);
        }

        ScheduleSend(TimeSpan.Zero);
    }

    /// <inheritdoc />
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        backingOff.Recovered(_key);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task WakeAsync()
    {
        // During a backoff the retry timer decides; waking early would hammer a failing sink.
        if (_sink is not null && _retryAt is null)
        {
            ScheduleLingeringSend();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task CircuitClosedAsync()
    {
        if (_sink is not null && _waitingForCircuit)
        {
            _waitingForCircuit = false;
            _retryAt = null;
            ScheduleSend(TimeSpan.Zero);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<PartitionStatus> GetStatusAsync() =>
        Task.FromResult(new PartitionStatus(_key, _delivered, _deadLettered, _consecutiveFailures, _retryAt, _lastError,
            _sink is null ? "Unknown" : sinks.CircuitOf(_key.Sink).State.ToString()) { Paused = _paused });

    /// <inheritdoc />
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != PendingWorkReminder)
        {
            return;
        }

        // This activation holds no lease between its own sends (a send runs in one turn; a reminder never
        // interleaves with it), so any InFlight record of the partition now is stranded. The claim keeps earlier
        // activations from leasing; this is the safety net for a lease taken without a leaseholder (tools) or
        // around it, which would otherwise wait for the partition's next activation.
        var stranded = await wal.RecoverInFlightAsync(_key, _leaseholder);
        if (stranded > 0)
        {
            LogRecoveredStranded(logger, stranded, _key.Sink, _key.Partition);
            _idle = false;
        }

        if (_idle)
        {
            // Nothing was pending at the last look and nothing woke the partition since: stop the reminder
            // until new work arrives.
            var reminder = await this.GetReminder(PendingWorkReminder);
            if (reminder is not null)
            {
                await this.UnregisterReminder(reminder);
            }

            _reminderRegistered = false;
            return;
        }

        await WakeAsync();
    }

    /// <summary>Sends at the next tick of the <see cref="LingerGrid"/>, unless a send is due sooner.</summary>
    private void ScheduleLingeringSend()
    {
        var now = time.GetUtcNow();
        var due = LingerGrid.UntilNextTick(now, _options.Linger);
        if (_sendDueAt is { } scheduled && scheduled <= now + due)
        {
            return;
        }

        ScheduleSend(due);
    }

    private void ScheduleSend(TimeSpan dueTime)
    {
        _idle = false;
        _sendDueAt = time.GetUtcNow() + dueTime;
        if (_sendTimer is null)
        {
            _sendTimer = this.RegisterGrainTimer(SendNextBatchAsync, new GrainTimerCreationOptions(dueTime, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        }
        else
        {
            _sendTimer.Change(dueTime, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task SendNextBatchAsync(CancellationToken cancellationToken)
    {
        _sendDueAt = null;
        // Paused: lease nothing, so the records wait in the WAL; SetPausedAsync(false) schedules the next send.
        if (_paused)
        {
            return;
        }

        try
        {
            if (_mayHoldInFlight)
            {
                await wal.RecoverInFlightAsync(_key, _leaseholder);
                _mayHoldInFlight = false;
            }

            await SendBatchAsync(cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // The WAL itself failed (disk, I/O). Records leased but not settled stay InFlight; they go back
            // to the head of the queue before the next attempt so that order holds.
            _mayHoldInFlight = true;
            _lastError = error.Message;
            var delay = _backoff.Next(++_consecutiveFailures);
            BackOff(time.GetUtcNow() + delay);
            LogWalFailed(logger, error, _key.Sink, _key.Partition, delay);
            ScheduleSend(delay);
        }
    }

    private async Task SendBatchAsync(CancellationToken cancellationToken)
    {
        var circuit = sinks.CircuitOf(_key.Sink);
        if (!circuit.TryEnter(out var circuitWait))
        {
            // The sink is known to be down: wait out the open circuit without leasing, so an outage
            // costs no attempts and no polling. The jitter spreads the partitions' probes.
            var wait = circuitWait + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 250));
            _retryAt = time.GetUtcNow() + wait;
            _waitingForCircuit = true;
            ScheduleSend(wait);
            return;
        }

        _waitingForCircuit = false;

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
                circuit.OnNothingSent();
            }
            else if (outcome == DeliveryOutcome.Retry)
            {
                circuit.OnFailure();
            }
            else if (circuit.OnSuccess())
            {
                // Delivered, or refused for good: either way the sink answered. This closed the circuit, so
                // the sink's other partitions stop waiting out the open period.
                WakeSiblingPartitions();
            }
        }
    }

    /// <returns>Whether a batch went to the sink, and what became of it.</returns>
    private async Task<(bool Sent, DeliveryOutcome Outcome)> LeaseAndSendAsync(CancellationToken cancellationToken)
    {
        // A retry takes exactly the records that failed (they are back at the head of the queue), so the
        // batch, and with it the sink's idempotency key, is the same on every attempt.
        var limit = _retryBatchSize ?? _options.BatchSize;
        var batch = await wal.LeaseAsync(_key, limit, _leaseholder);
        if (batch.Count == 0)
        {
            StopBackingOff();
            _idle = true;
            return (false, DeliveryOutcome.Delivered);
        }

        if (!_reminderRegistered)
        {
            await this.RegisterOrUpdateReminder(PendingWorkReminder, _options.ReminderPeriod, _options.ReminderPeriod);
            _reminderRegistered = true;
        }

        using var trace = DeliveryTrace.Start(_key, batch);
        var result = await DeliverAsync(batch, cancellationToken);
        if (result.Outcome == DeliveryOutcome.Delivered)
        {
            await wal.AckAsync(batch);
            var acked = time.GetUtcNow();
            foreach (var record in batch)
            {
                metrics.Delivered(_key.Sink, acked - record.ReceivedAt);
            }

            _delivered += batch.Count;
            _consecutiveFailures = 0;
            StopBackingOff();
            if (batch.Count == limit)
            {
                // A full batch: more may be waiting.
                ScheduleSend(TimeSpan.Zero);
            }
            else
            {
                // The lease took everything committed before it. A record committed since has its wake-up queued
                // behind this turn (timer turns do not interleave with calls), so no look is needed until then.
                _idle = true;
            }

            return (true, result.Outcome);
        }

        var now = time.GetUtcNow();
        var error = result.Error ?? "delivery failed";
        _lastError = error;
        var permanent = result.Outcome == DeliveryOutcome.Permanent;
        trace.Failed(error, permanent);
        var delay = permanent ? TimeSpan.Zero : _backoff.Next(++_consecutiveFailures, result.RetryAfter);
        var dead = await wal.FailAsync(batch, new DeliveryFailure(error, permanent, now + delay, _options.MaxAttempts, now - _options.MaxAge));
        _deadLettered += dead;
        if (dead > 0)
        {
            metrics.DeadLettered(_key.Sink, dead);
            LogDeadLettered(logger, dead, _key.Sink, _key.Partition, error);
        }

        if (batch.Count > dead)
        {
            metrics.Retried(_key.Sink, batch.Count - dead);
        }

        if (permanent)
        {
            // The sink answered and will never take these: nothing to back off from.
            StopBackingOff();
        }
        else
        {
            BackOff(now + delay);
            // A retry takes exactly the failed batch again, unless some of it is Dead now.
            _retryBatchSize = dead > 0 ? null : batch.Count;
        }

        LogDeliveryFailed(logger, batch.Count, _key.Sink, _key.Partition, delay, error);
        ScheduleSend(delay);
        return (true, result.Outcome);
    }

    private void BackOff(DateTimeOffset retryAt)
    {
        _retryAt = retryAt;
        backingOff.Failing(_key);
    }

    private void StopBackingOff()
    {
        _retryAt = null;
        _retryBatchSize = null;
        backingOff.Recovered(_key);
    }

    private void WakeSiblingPartitions()
    {
        for (var partition = 0; partition < _options.PartitionCount; partition++)
        {
            if (partition != _key.Partition)
            {
                _ = GrainFactory.GetGrain<IPartitionGrain>(new PartitionKey(_key.Sink, partition).ToString()).CircuitClosedAsync();
            }
        }
    }

    private async Task<DeliveryResult> DeliverAsync(IReadOnlyList<WalRecord> batch, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.SendTimeout);
        try
        {
            return await _sink!.DeliverAsync(batch, timeout.Token);
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

    /// <inheritdoc />
    public Task SetPausedAsync(bool paused)
    {
        _paused = paused;
        if (!paused && _sink is not null)
        {
            // A retry or circuit wait that came due while paused did nothing; start afresh (an open circuit still holds).
            _retryAt = null;
            _waitingForCircuit = false;
            ScheduleSend(TimeSpan.Zero);
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Partition {Partition} names sink '{Sink}', which is not configured; its records stay in the WAL")]
    private static partial void LogUnknownSink(ILogger logger, string sink, int partition);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Returned {Count} in-flight records of {Sink}/{Partition} to the queue")]
    private static partial void LogRecovered(ILogger logger, int count, string sink, int partition);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Delivering {Count} records of {Sink}/{Partition} failed; retrying in {Delay}: {Error}")]
    private static partial void LogDeliveryFailed(ILogger logger, int count, string sink, int partition, TimeSpan delay, string error);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Returned {Count} in-flight records of {Sink}/{Partition} that another activation leased to the queue")]
    private static partial void LogRecoveredStranded(ILogger logger, int count, string sink, int partition);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "The WAL failed while sending {Sink}/{Partition}; retrying in {Delay}")]
    private static partial void LogWalFailed(ILogger logger, Exception error, string sink, int partition, TimeSpan delay);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "Dead-lettered {Count} records of {Sink}/{Partition}: {Error}")]
    private static partial void LogDeadLettered(ILogger logger, int count, string sink, int partition, string error);
}
