using Gateway.Lanes;
using Gateway.Sinks;
using Gateway.Telemetry;
using Gateway.Wal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Partitions;

/// <summary>
/// Hosts one partition's <see cref="PartitionSender"/>: gives it the grain's one timer, keeps the durable reminder that
/// wakes the partition while it has work (so a restart or a long outage never strands records), claims the partition in
/// the WAL when it activates, and passes on the calls from outside (wakes, the circuit closing, pause and resume).
/// </summary>
public sealed partial class PartitionGrain(
    IDeliveryLog wal,
    SinkCatalog sinks,
    BackingOffPartitions backingOff,
    LaneCatalog lanes,
    GatewayMetrics metrics,
    IOptions<DeliveryOptions> deliveryOptions,
    TimeProvider time,
    ILogger<PartitionGrain> logger) : Grain, IPartitionGrain, IRemindable, IPartitionSenderHost
{
    /// <summary>Name of the reminder that wakes the partition while records are pending.</summary>
    public const string PendingWorkReminder = "deliver-pending";

    private readonly DeliveryOptions _options = deliveryOptions.Value;

    // This activation's token in the WAL: after it claims the partition, an earlier activation still running on a
    // silo declared dead can no longer lease or recover the partition's records.
    private readonly long _leaseholder = Random.Shared.NextInt64(1, long.MaxValue);
    private PartitionKey _key;
    private PartitionSender? _sender;
    private IGrainTimer? _sendTimer;
    private bool _reminderRegistered;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = PartitionKey.Parse(this.GetPrimaryKeyString());
        var sink = sinks.Find(_key.Sink);
        if (sink is null)
        {
            LogUnknownSink(logger, _key.Sink, _key.Partition);
            return;
        }

        var paused = await GrainFactory.GetGrain<ISinkControlGrain>(_key.Sink).IsPausedAsync();

        // A previous activation may have died mid-send: its InFlight records go back to the head of the queue, and
        // from this commit on only this activation may lease.
        var recovered = await wal.ClaimAsync(_key, _leaseholder);
        if (recovered > 0)
        {
            LogRecovered(logger, recovered, _key.Sink, _key.Partition);
        }

        _sender = new PartitionSender(_key, sink, sinks.CircuitOf(_key.Sink), wal, this, _leaseholder, paused, _options,
            new RetryBackoff(_options.BackoffBase, _options.BackoffCap, Random.Shared), backingOff,
            LaneGate.For(lanes, wal, _key, _options.PartitionCount, time), metrics, time, logger);
        _sender.Start();
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
        _sender?.Wake();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task CircuitClosedAsync()
    {
        _sender?.CircuitClosed();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<PartitionStatus> GetStatusAsync() =>
        Task.FromResult(_sender?.Status ?? new PartitionStatus(_key, 0, 0, 0, null, null, "Unknown"));

    /// <inheritdoc />
    public Task SetPausedAsync(bool paused)
    {
        _sender?.SetPaused(paused);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != PendingWorkReminder || _sender is null)
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
        }
        else if (_sender.State == PartitionSendState.Idle)
        {
            // Nothing was pending at the last look and nothing woke the partition since: stop the reminder until new
            // work arrives.
            var reminder = await this.GetReminder(PendingWorkReminder);
            if (reminder is not null)
            {
                await this.UnregisterReminder(reminder);
            }

            _reminderRegistered = false;
            return;
        }

        _sender.Wake();
    }

    void IPartitionSenderHost.ScheduleSend(TimeSpan dueTime)
    {
        if (_sendTimer is null)
        {
            _sendTimer = this.RegisterGrainTimer(SendDueAsync, new GrainTimerCreationOptions(dueTime, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        }
        else
        {
            _sendTimer.Change(dueTime, Timeout.InfiniteTimeSpan);
        }
    }

    async Task IPartitionSenderHost.KeepReminderAsync()
    {
        if (!_reminderRegistered)
        {
            await this.RegisterOrUpdateReminder(PendingWorkReminder, _options.ReminderPeriod, _options.ReminderPeriod);
            _reminderRegistered = true;
        }
    }

    void IPartitionSenderHost.WakeSiblings()
    {
        for (var partition = 0; partition < _options.PartitionCount; partition++)
        {
            if (partition != _key.Partition)
            {
                _ = GrainFactory.GetGrain<IPartitionGrain>(new PartitionKey(_key.Sink, partition).ToString()).CircuitClosedAsync();
            }
        }
    }

    private Task SendDueAsync(CancellationToken cancellationToken) => _sender!.SendDueAsync(cancellationToken);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Partition {Partition} names sink '{Sink}', which is not configured; its records stay in the WAL")]
    private static partial void LogUnknownSink(ILogger logger, string sink, int partition);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Returned {Count} in-flight records of {Sink}/{Partition} to the queue")]
    private static partial void LogRecovered(ILogger logger, int count, string sink, int partition);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Returned {Count} in-flight records of {Sink}/{Partition} that another activation leased to the queue")]
    private static partial void LogRecoveredStranded(ILogger logger, int count, string sink, int partition);
}
