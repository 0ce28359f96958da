using Gateway.Wal;

namespace Gateway.Silo.Admin;

/// <summary><c>/admin/v1/messages/{id}</c> (one message's lifecycle) and <c>/admin/v1/wal</c> (WAL statistics).</summary>
internal static class MessageAdminEndpoints
{
    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapGet("/messages/{messageId}", LifecycleAsync).WithTags("Messages")
            .WithSummary("One message's lifecycle: each delivery's states with times, attempts, errors, and the message's trace id.")
            .Produces<MessageView>();
        admin.MapGet("/wal", StatisticsAsync).WithTags("WAL")
            .WithSummary("WAL statistics: deliveries by state, pending bytes, oldest pending, database size, commit counters.")
            .Produces<WalView>();
    }

    private static async Task<IResult> LifecycleAsync(string messageId, IWalAdmin wal)
    {
        if (!AdminInput.TryMessageId(messageId, "messageId", out var error))
        {
            return error!;
        }

        var lifecycle = await wal.GetMessageLifecycleAsync(messageId);
        return lifecycle is null
            ? AdminProblems.NotFound("unknown-message", $"The WAL holds no message '{messageId}': never stored, or compacted after delivery.")
            : Results.Ok(MessageView.From(lifecycle));
    }

    private static async Task<IResult> StatisticsAsync(IWalStore wal, TimeProvider time)
    {
        var statistics = wal.GetStatistics();
        var storage = await wal.GetStorageAsync();
        return Results.Ok(new WalView(
            statistics.EnqueuedRecords, statistics.InFlightRecords, statistics.AckedRecords, statistics.DeadRecords,
            statistics.PendingRecords, statistics.PendingBytes, storage.OldestPendingReceivedAt,
            storage.OldestPendingReceivedAt is { } oldest ? Math.Max(0, (time.GetUtcNow() - oldest).TotalSeconds) : null,
            storage.DatabaseBytes, statistics.AppendedMessages, statistics.Transactions, statistics.Operations));
    }
}

/// <summary>WAL statistics; the last three count since the gateway started.</summary>
internal sealed record WalView(
    long Enqueued,
    long InFlight,
    long Acked,
    long Dead,
    long PendingRecords,
    long PendingBytes,
    DateTimeOffset? OldestPendingReceivedAt,
    double? OldestPendingAgeSeconds,
    long DatabaseBytes,
    long AppendedMessagesSinceStart,
    long TransactionsSinceStart,
    long OperationsSinceStart);

/// <summary>A message and the lifecycle of each of its deliveries.</summary>
internal sealed record MessageView(
    string MessageId,
    string DeviceId,
    long Sequence,
    string Topic,
    string ContentType,
    int PayloadBytes,
    DateTimeOffset ReceivedAt,
    string? TraceParent,
    string? TraceId,
    IReadOnlyList<DeliveryView> Deliveries)
{
    public static MessageView From(MessageLifecycle message) => new(
        message.MessageId, message.DeviceId, message.Sequence, message.Topic, message.ContentType, message.PayloadBytes,
        message.ReceivedAt, message.TraceParent, TraceIdOf(message.TraceParent),
        message.Deliveries.Select(delivery => DeliveryView.From(delivery, message.ReceivedAt)).ToList());

    // traceparent is version-traceid-parentid-flags; the trace id is what trace backends search by.
    private static string? TraceIdOf(string? traceParent) =>
        traceParent?.Split('-') is [_, var traceId, _, _] && traceId.Length == 32 ? traceId : null;
}

/// <summary>One delivery: its current state and its history, oldest first, starting with Enqueued when the message was received.</summary>
internal sealed record DeliveryView(
    long DeliveryId,
    string Sink,
    int Partition,
    string State,
    int Attempts,
    DateTimeOffset? NextAttemptAt,
    string? FirstError,
    string? LastError,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<DeliveryStep> History)
{
    public static DeliveryView From(DeliveryLifecycle delivery, DateTimeOffset receivedAt)
    {
        var history = new List<DeliveryStep>(delivery.Events.Count + 1) { new(receivedAt, nameof(DeliveryState.Enqueued), null, 0, null) };
        history.AddRange(delivery.Events.Select(change =>
            new DeliveryStep(change.At, change.To.ToString(), change.From.ToString(), change.Attempts, change.Error)));
        return new(delivery.DeliveryId, delivery.Sink, delivery.Partition, delivery.State.ToString(), delivery.Attempts,
            delivery.NextAttemptAt, delivery.FirstError, delivery.LastError, delivery.UpdatedAt, history);
    }
}

/// <summary>One state a delivery entered: when, from which state, the failed attempts so far, and the error of a failed attempt.</summary>
internal sealed record DeliveryStep(DateTimeOffset At, string State, string? From, int Attempts, string? Error);
