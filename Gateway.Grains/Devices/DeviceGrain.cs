using System.Diagnostics;
using System.Globalization;
using Gateway.Lanes;
using Gateway.Partitions;
using Gateway.Routing;
using Gateway.Storage;
using Gateway.Tail;
using Gateway.Telemetry;
using Gateway.Wal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;

namespace Gateway.Devices;

/// <summary>
/// One device: validates and normalizes its messages, drops retransmissions, gives each message the next
/// per-device sequence and a stable message id, routes it to the device's partitions and its lane, and appends
/// it to the WAL. Calls run one at a time, so sequences follow arrival order.
/// </summary>
public sealed partial class DeviceGrain(
    [PersistentState("device", StorageNames.Gateway)] IPersistentState<DeviceState> state,
    IDeliveryLog wal,
    IWalAdmin walAdmin,
    IngestPressure pressure,
    PartitionRouter router,
    LaneCatalog lanes,
    LaneActivity laneActivity,
    TailInterest tailInterest,
    GatewayMetrics metrics,
    IOptions<DeviceOptions> deviceOptions,
    IOptions<GatewayOptions> gatewayOptions,
    TimeProvider time,
    ILogger<DeviceGrain> logger) : Grain, IDeviceGrain
{
    private const int MaxCachedTopics = 64;
    private const int MaxPendingTailPublishes = 32;
    private readonly DeviceOptions _options = deviceOptions.Value;
    private string _deviceId = "";
    private string _messageIdPrefix = "";
    private int _partition = -1;
    private readonly Dictionary<string, MessageRoute> _routesByTopic = new(StringComparer.Ordinal);
    private DuplicateWindow _duplicates = new(0, TimeSpan.Zero);
    private bool _duplicatesUncertain;
    private long _lastSequence;
    private DateTimeOffset? _firstSeen;
    private DateTimeOffset? _lastSeen;
    private long _acceptedCount;
    private bool _stateChanged;
    private bool _counted;
    private int _pendingTailPublishes;
    private IAsyncStream<TailedMessage>? _tailStream;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _deviceId = this.GetPrimaryKeyString();
        if (!DeviceId.IsValid(_deviceId))
        {
            return;
        }

        _messageIdPrefix = $"{gatewayOptions.Value.GatewayId}:{_deviceId}:";
        // A device's outbound partition (and tail stream) never changes while it is active: hashed once here.
        _partition = router.PartitionOf(_deviceId);

        // Sequence and activity are committed with the messages, so the WAL is their only source.
        var record = await wal.GetDeviceAsync(_deviceId);
        (_lastSequence, _firstSeen, _lastSeen, _acceptedCount) = (record.LastSequence, record.FirstSeen, record.LastSeen, record.AcceptedCount);

        await LoadDuplicateWindowAsync();
        this.RegisterGrainTimer(FlushStateAsync, new GrainTimerCreationOptions(_options.StateFlushInterval, _options.StateFlushInterval));
        metrics.DeviceActivations(1);
        _counted = true;
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_counted)
        {
            _counted = false;
            metrics.DeviceActivations(-1);
        }

        await FlushStateAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<AcceptResult> AcceptAsync(IReadOnlyList<IncomingMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        using var activity = GatewayTelemetry.Source.StartActivity("device accept");
        activity?.SetTag("gateway.device.id", _deviceId);
        activity?.SetTag("messaging.batch.message_count", messages.Count);
        var refusal = Validate(messages, out var contentTypes);
        if (refusal is not null)
        {
            return Refuse(refusal, activity);
        }

        if (_duplicatesUncertain)
        {
            // The last append failed, perhaps after its commit landed (a connection lost mid-commit, a synchronous
            // standby's wait cancelled): the WAL, not this activation's memory, says which of its messages are stored,
            // so their retransmissions are dropped. A durable write first: once it commits (on PostgreSQL, confirmed by
            // the synchronous standby), every earlier commit is as durable as it, so a retransmission answered as a
            // duplicate is acknowledged only for a message that is durably stored.
            try
            {
                await wal.ProbeWriteAsync();
                await LoadDuplicateWindowAsync();
                _duplicatesUncertain = false;
            }
            catch (Exception error)
            {
                LogWindowReloadFailed(logger, error, _deviceId);
                return Refuse(AcceptResult.Refused(RefusalReason.StorageUnavailable,
                    "The gateway could not read what it stored for this device; nothing was stored, retry later.") with { RetryAfter = pressure.RetryAfter }, activity);
            }
        }

        var now = time.GetUtcNow();
        var results = new AcceptedMessage[messages.Count];
        var toStore = new List<WalMessage>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.DeviceMessageId is { } deviceMessageId && _duplicates.TryGet(deviceMessageId, now, out var original))
            {
                results[i] = original;
                continue;
            }

            var sequence = ++_lastSequence;
            var messageId = string.Concat(_messageIdPrefix, sequence.ToString(CultureInfo.InvariantCulture));
            results[i] = new AcceptedMessage(messageId, sequence, Duplicate: false);
            var route = RouteOf(message.Topic);
            toStore.Add(new WalMessage(messageId, sequence, message.DeviceMessageId, now, contentTypes[i], message.Payload, message.TraceParent, message.Topic,
                route.Partitions, route.Lane.Priority));
            if (message.DeviceMessageId is not null)
            {
                // Remembered before the commit so a retransmission inside this same batch is dropped too.
                _duplicates.Remember(message.DeviceMessageId, results[i] with { Duplicate = true }, now);
            }
        }

        if (toStore.Count > 0)
        {
            try
            {
                await wal.AppendAsync(new WalAppend(_deviceId, toStore));
            }
            catch (Exception error)
            {
                // Nothing of the batch was acknowledged. Its sequences are not reused (a gap is harmless; a reused
                // id after an ambiguous commit would not be), and before the next batch the duplicate window is read
                // again from the WAL, which holds the batch's messages if the commit landed after all.
                foreach (var stored in toStore)
                {
                    if (stored.DeviceMessageId is not null)
                    {
                        _duplicates.Forget(stored.DeviceMessageId);
                    }
                }

                _duplicatesUncertain = true;

                LogAppendFailed(logger, error, _deviceId, toStore.Count);
                return Refuse(AcceptResult.Refused(RefusalReason.StorageUnavailable,
                    "The gateway could not store the messages; nothing was stored, retry later.") with { RetryAfter = pressure.RetryAfter }, activity);
            }

            if (tailInterest.IsWatched(_partition))
            {
                PublishToTail(toStore);
            }
        }

        if (toStore.Count > 0)
        {
            _firstSeen ??= now;
            _lastSeen = now;
            _acceptedCount += toStore.Count;
        }

        if (toStore.Count < messages.Count)
        {
            state.State.DuplicateCount += messages.Count - toStore.Count;
            _stateChanged = true;
        }
        activity?.SetTag("gateway.messages.stored", toStore.Count);
        activity?.SetTag("gateway.messages.duplicate", messages.Count - toStore.Count);
        return new AcceptResult(RefusalReason.None, null, results);
    }

    /// <inheritdoc />
    public async Task<DeviceStatus> GetStatusAsync()
    {
        var current = state.State;
        var valid = DeviceId.IsValid(_deviceId);
        var counts = valid ? await walAdmin.GetDeviceDeliveryCountsAsync(_deviceId) : new DeviceDeliveryCounts(0, 0);
        return new DeviceStatus(
            _deviceId, _firstSeen, _lastSeen, _acceptedCount, current.DuplicateCount,
            current.RefusedCount, _lastSequence, _partition)
        {
            Disabled = current.Disabled,
            BufferedCount = counts.Buffered,
            DeadCount = counts.Dead,
        };
    }

    // The device's recent messages that carried a device message id, as the WAL holds them.
    private async Task LoadDuplicateWindowAsync()
    {
        var duplicates = new DuplicateWindow(_options.DuplicateWindowSize, _options.DuplicateWindow);
        var now = time.GetUtcNow();
        var recent = await wal.GetRecentDeviceMessagesAsync(_deviceId, now - _options.DuplicateWindow, _options.DuplicateWindowSize);
        for (var i = recent.Count - 1; i >= 0; i--)
        {
            var message = recent[i];
            duplicates.Remember(message.DeviceMessageId, new AcceptedMessage(message.MessageId, message.Sequence, Duplicate: true), message.ReceivedAt);
        }

        _duplicates = duplicates;
    }

    private AcceptResult? Validate(IReadOnlyList<IncomingMessage> messages, out string[] contentTypes)
    {
        contentTypes = [];
        if (!DeviceId.IsValid(_deviceId))
        {
            return AcceptResult.Refused(RefusalReason.InvalidDeviceId,
                $"The device id must be 1-{DeviceId.MaxLength} letters, digits, '-', '_' or '.', starting with a letter or digit.");
        }

        if (state.State.Disabled)
        {
            return AcceptResult.Refused(RefusalReason.DeviceDisabled, $"Device '{_deviceId}' is disabled by an operator; nothing it sends is stored.");
        }

        if (messages.Count == 0)
        {
            return AcceptResult.Refused(RefusalReason.EmptyBatch, "The batch holds no message.");
        }

        var pressureRefusal = CheckPressure(messages);
        if (pressureRefusal is not null)
        {
            return pressureRefusal;
        }

        contentTypes = new string[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            var (refusal, detail, contentType) = MessageNormalizer.Normalize(messages[i], _options.MaxMessageBytes);
            if (refusal != RefusalReason.None)
            {
                var where = messages.Count == 1 ? "" : $"Message {i}: ";
                return AcceptResult.Refused(refusal, where + detail);
            }

            contentTypes[i] = contentType;
            if (RouteOf(messages[i].Topic).Partitions.Count == 0)
            {
                var where = messages.Count == 1 ? "" : $"Message {i}: ";
                return AcceptResult.Refused(RefusalReason.NoRoute, $"{where}No sink takes topic '{messages[i].Topic}' from this device.");
            }
        }

        return null;
    }

    // The batch is refused whole when the gateway, or the lane of any of its messages, is full: a batch is stored or not.
    private AcceptResult? CheckPressure(IReadOnlyList<IncomingMessage> messages)
    {
        Lane? checkedLane = null;
        foreach (var message in messages)
        {
            var lane = RouteOf(message.Topic).Lane;
            if (ReferenceEquals(lane, checkedLane))
            {
                continue;
            }

            checkedLane = lane;
            var (reason, detail) = pressure.Check(lane);
            if (reason != RefusalReason.None)
            {
                laneActivity.Refused(lane, messages.Count);
                return AcceptResult.Refused(reason, detail!) with { RetryAfter = pressure.RetryAfter };
            }
        }

        return null;
    }

    private MessageRoute RouteOf(string topic)
    {
        if (!_routesByTopic.TryGetValue(topic, out var route))
        {
            route = new MessageRoute(router.RoutesFor(_deviceId, topic), lanes.LaneOf(_deviceId, topic));
            // A device publishes to a handful of topics; the bound keeps a misbehaving one from growing the cache.
            if (_routesByTopic.Count < MaxCachedTopics)
            {
                _routesByTopic[topic] = route;
            }
        }

        return route;
    }

    /// <summary>Where a device's messages on one topic go: the partitions (one per sink) and the lane.</summary>
    private sealed record MessageRoute(IReadOnlyList<PartitionKey> Partitions, Lane Lane);

    private AcceptResult Refuse(AcceptResult refusal, Activity? activity)
    {
        activity?.SetStatus(ActivityStatusCode.Error, refusal.Detail);
        activity?.SetTag("error.type", refusal.Refusal.ToString());
        if (DeviceId.IsValid(_deviceId))
        {
            state.State.RefusedCount++;
            _stateChanged = true;
        }

        return refusal;
    }

    private async Task FlushStateAsync(CancellationToken cancellationToken)
    {
        if (!_stateChanged)
        {
            return;
        }

        // Cleared first: a change made while the write is awaited is written by the next flush.
        _stateChanged = false;
        try
        {
            await state.WriteStateAsync(cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            _stateChanged = true;
            LogStateWriteFailed(logger, error, _deviceId);
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Error, Message = "Storing {Count} messages of device {DeviceId} failed; the sender is told to retry")]
    private static partial void LogAppendFailed(ILogger logger, Exception error, string deviceId, int count);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Error, Message = "Reading the recent messages of device {DeviceId} after a failed append failed; the sender is told to retry")]
    private static partial void LogWindowReloadFailed(ILogger logger, Exception error, string deviceId);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Writing the state of device {DeviceId} failed; it is retried at the next flush")]
    private static partial void LogStateWriteFailed(ILogger logger, Exception error, string deviceId);

    /// <inheritdoc />
    public async Task<DeviceStatus> SetDisabledAsync(bool disabled)
    {
        if (!DeviceId.IsValid(_deviceId))
        {
            throw new ArgumentException($"'{_deviceId}' is not a valid device id.");
        }

        if (state.State.Disabled != disabled)
        {
            // Written now, not at the next flush: the operator is told it is done only once it survives a restart.
            state.State.Disabled = disabled;
            try
            {
                await state.WriteStateAsync();
            }
            catch
            {
                state.State.Disabled = !disabled;
                throw;
            }

            _stateChanged = false;
            LogDisabledChanged(logger, _deviceId, disabled);
        }

        // Listed by the admin API even if it never sends anything (devices that did are listed from wal_device).
        await walAdmin.RecordDeviceAsync(new DeviceDirectoryEntry(_deviceId, _firstSeen, _lastSeen));
        return await GetStatusAsync();
    }

    // After the commit, only while someone watches, and never awaited: a tail viewer, or the stream queue being slow, must not hold up ingest.
    // Publishes waiting on the stream queue are bounded per device; beyond that the tail misses messages, the WAL none.
    private void PublishToTail(List<WalMessage> stored)
    {
        if (_pendingTailPublishes >= MaxPendingTailPublishes)
        {
            metrics.TailDropped(stored.Count);
            return;
        }

        var messages = new List<TailedMessage>(stored.Count);
        foreach (var message in stored)
        {
            messages.Add(new TailedMessage(message.MessageId, _deviceId, message.Sequence, message.Topic, message.ContentType,
                message.ReceivedAt, message.Payload, message.TraceParent));
        }

        _pendingTailPublishes++;
        _ = PublishToTailAsync(messages);
    }

    private async Task PublishToTailAsync(List<TailedMessage> messages)
    {
        try
        {
            _tailStream ??= this.GetStreamProvider(TailStreams.Provider)
                .GetStream<TailedMessage>(StreamId.Create(TailStreams.Namespace, _partition));
            await _tailStream.OnNextBatchAsync(messages);
        }
        catch (Exception error)
        {
            metrics.TailDropped(messages.Count);
            LogTailPublishFailed(logger, error, _deviceId);
        }
        finally
        {
            _pendingTailPublishes--;
        }
    }

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Device {DeviceId} disabled: {Disabled}")]
    private static partial void LogDisabledChanged(ILogger logger, string deviceId, bool disabled);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "Publishing accepted messages of device {DeviceId} to the live tail failed; viewers miss them")]
    private static partial void LogTailPublishFailed(ILogger logger, Exception error, string deviceId);
}
