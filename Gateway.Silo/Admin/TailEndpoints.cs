using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Gateway.Devices;
using Gateway.Routing;
using Gateway.Tail;
using Gateway.Telemetry;
using Gateway.Wal;
using Microsoft.Extensions.Options;

namespace Gateway.Silo.Admin;

/// <summary><c>/admin/v1/tail</c>: a device's or a topic filter's accepted messages as Server-Sent Events.</summary>
internal static class TailEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void Map(RouteGroupBuilder admin) =>
        admin.MapGet("/tail", TailAsync).WithTags("Live tail")
            .WithSummary("Accepted messages of one device (deviceId) or one MQTT topic filter (topic) as text/event-stream, from now on.")
            .WithDescription("Events: 'message' (one accepted message; id is its message id), 'dropped' (how many this viewer missed "
                + "because it read too slowly). A comment line ': subscribed' says the tail is in place.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");

    private static async Task<IResult> TailAsync(
        string? deviceId, string? topic, HttpContext context, IClusterClient cluster, PartitionRouter router,
        IOptions<Partitions.DeliveryOptions> delivery, IOptions<AdminOptions> options, TailInterest interest, GatewayMetrics metrics)
    {
        if ((deviceId is null) == (topic is null))
        {
            return AdminProblems.Invalid("deviceId", "Give exactly one of deviceId (one device) or topic (an MQTT topic filter).");
        }

        if (deviceId is not null && !AdminInput.TryDeviceId(deviceId, "deviceId", out var error))
        {
            return error!;
        }

        TopicFilter? filter = null;
        if (topic is not null)
        {
            try
            {
                filter = new TopicFilter(topic);
            }
            catch (FormatException invalid)
            {
                return AdminProblems.Invalid("topic", invalid.Message);
            }
        }

        var device = deviceId ?? TelemetryTopic.DeviceOf(topic);
        IEnumerable<int> partitions = device is not null ? [router.PartitionOf(device)] : Enumerable.Range(0, delivery.Value.PartitionCount);
        var streams = cluster.GetStreamProvider(TailStreams.Provider);
        var watched = partitions.ToArray();
        await using var viewer = await TailViewer.SubscribeAsync(streams, watched, deviceId, filter, options.Value.TailBuffer, metrics);

        // Device grains publish to a tail stream only while it is watched: register this viewer, renewed with each
        // keep-alive, so its lease outlives it only briefly if this silo dies.
        var registry = cluster.GetGrain<ITailRegistryGrain>(0);
        var viewerId = Guid.NewGuid();
        var keepAlive = options.Value.TailKeepAlive;
        Task RenewAsync() => registry.WatchAsync(viewerId, watched, keepAlive * 3);
        await RenewAsync();
        interest.Watch(watched);
        try
        {
            await StreamAsync(context, viewer, keepAlive, RenewAsync);
        }
        finally
        {
            await registry.ForgetAsync(viewerId);
        }

        return Results.Empty;
    }

    private static async Task StreamAsync(HttpContext context, TailViewer viewer, TimeSpan keepAlive, Func<Task> renew)
    {
        var response = context.Response;
        var aborted = context.RequestAborted;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Reverse proxies must not hold events back to fill a buffer.
        response.Headers["X-Accel-Buffering"] = "no";
        await response.WriteAsync(": subscribed\n\n", aborted);
        await response.Body.FlushAsync(aborted);
        long reportedDrops = 0;
        try
        {
            var renewed = Stopwatch.GetTimestamp();
            while (!aborted.IsCancellationRequested)
            {
                if (Stopwatch.GetElapsedTime(renewed) >= keepAlive)
                {
                    await renew();
                    renewed = Stopwatch.GetTimestamp();
                }

                using var wait = CancellationTokenSource.CreateLinkedTokenSource(aborted);
                wait.CancelAfter(keepAlive);
                try
                {
                    await viewer.Messages.WaitToReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                {
                    await response.WriteAsync(": keep-alive\n\n", aborted);
                    await response.Body.FlushAsync(aborted);
                    continue;
                }

                var builder = new StringBuilder();
                var dropped = viewer.Dropped;
                if (dropped > reportedDrops)
                {
                    builder.Append("event: dropped\ndata: ").Append(JsonSerializer.Serialize(new { dropped = dropped - reportedDrops, total = dropped }, Json)).Append("\n\n");
                    reportedDrops = dropped;
                }

                while (viewer.Messages.TryRead(out var message))
                {
                    builder.Append("event: message\nid: ").Append(message.MessageId).Append("\ndata: ").Append(Serialize(message)).Append("\n\n");
                }

                await response.WriteAsync(builder.ToString(), aborted);
                await response.Body.FlushAsync(aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The viewer went away: the normal end of a tail.
        }
    }

    // JSON payloads are embedded as JSON; anything else as base64, so each event stays one line of valid JSON.
    private static string Serialize(TailedMessage message)
    {
        var isJson = message.ContentType == MediaTypes.Json;
        var body = isJson
            ? (object)JsonSerializer.Deserialize<JsonElement>(message.Payload.Span)
            : Convert.ToBase64String(message.Payload.Span);
        return JsonSerializer.Serialize(new
        {
            message.MessageId,
            message.DeviceId,
            message.Sequence,
            message.Topic,
            message.ContentType,
            message.ReceivedAt,
            message.TraceParent,
            PayloadEncoding = isJson ? "json" : "base64",
            Payload = body,
        }, Json);
    }
}
