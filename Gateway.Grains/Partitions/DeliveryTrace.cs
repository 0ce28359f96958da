using System.Diagnostics;
using Gateway.Telemetry;
using Gateway.Wal;

namespace Gateway.Partitions;

/// <summary>
/// The spans of one batch send. Each record carries the trace context it was ingested under (stored in the
/// WAL), so the delivery joins the device's trace even hours later: one <c>deliver {sink}</c> span (Producer)
/// per distinct stored context, as its child, and one <c>send {sink}</c> span (Client) under the first of them,
/// linked to the others, that is <see cref="Activity.Current"/> while the sink runs, so an upstream request
/// carries it (HttpClient sends it as <c>traceparent</c> by itself).
/// </summary>
internal sealed class DeliveryTrace : IDisposable
{
    // More distinct traces than this in one batch share the send span's links only (OpenTelemetry keeps
    // 128 links per span by default anyway).
    private const int MaxDeliverSpans = 128;

    private readonly List<Activity> _deliverSpans;
    private readonly Activity? _sendSpan;

    private DeliveryTrace(List<Activity> deliverSpans, Activity? sendSpan)
    {
        _deliverSpans = deliverSpans;
        _sendSpan = sendSpan;
    }

    /// <summary>Starts the spans of <paramref name="batch"/>; does nothing when no one listens.</summary>
    public static DeliveryTrace Start(PartitionKey partition, IReadOnlyList<WalRecord> batch)
    {
        var spans = new List<Activity>();
        if (!GatewayTelemetry.Source.HasListeners() || batch.Count == 0)
        {
            return new DeliveryTrace(spans, null);
        }

        // A timer tick has no parent of its own: every span here descends from a stored context or is a root.
        Activity.Current = null;
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var name = "deliver " + partition.Sink;
        foreach (var record in batch)
        {
            var key = record.TraceParent ?? "";
            if (seen.TryGetValue(key, out var index))
            {
                if (index >= 0)
                {
                    var span = spans[index];
                    span.SetTag("messaging.batch.message_count", (int)(span.GetTagItem("messaging.batch.message_count") ?? 1) + 1);
                }

                continue;
            }

            if (spans.Count >= MaxDeliverSpans)
            {
                seen[key] = -1;
                continue;
            }

            var parent = GatewayTelemetry.ParseTraceParent(record.TraceParent) ?? default;
            var deliver = GatewayTelemetry.Source.StartActivity(name, ActivityKind.Producer, parent);
            Activity.Current = null;
            if (deliver is null)
            {
                seen[key] = -1;
                continue;
            }

            deliver.SetTag("messaging.system", "gateway");
            deliver.SetTag("messaging.destination.name", partition.Sink);
            deliver.SetTag("messaging.message.id", record.MessageId);
            deliver.SetTag("gateway.partition", partition.Partition);
            deliver.SetTag("gateway.delivery.attempt", record.Attempts + 1);
            seen[key] = spans.Count;
            spans.Add(deliver);
        }

        Activity? send = null;
        if (spans.Count > 0)
        {
            var links = new List<ActivityLink>(spans.Count - 1);
            for (var i = 1; i < spans.Count; i++)
            {
                links.Add(new ActivityLink(spans[i].Context));
            }

            send = GatewayTelemetry.Source.StartActivity("send " + partition.Sink, ActivityKind.Client, spans[0].Context, links: links);
            send?.SetTag("messaging.destination.name", partition.Sink);
            send?.SetTag("messaging.batch.message_count", batch.Count);
            send?.SetTag("gateway.partition", partition.Partition);
        }

        return new DeliveryTrace(spans, send);
    }

    /// <summary>Marks every span failed with <paramref name="error"/>.</summary>
    public void Failed(string error, bool permanent)
    {
        foreach (var span in Spans())
        {
            span.SetStatus(ActivityStatusCode.Error, error);
            span.SetTag("error.type", permanent ? "permanent" : "retry");
        }
    }

    /// <summary>Stops the spans: the send first, then the deliveries it served.</summary>
    public void Dispose()
    {
        _sendSpan?.Dispose();
        foreach (var span in _deliverSpans)
        {
            span.Dispose();
        }
    }

    private IEnumerable<Activity> Spans() => _sendSpan is null ? _deliverSpans : _deliverSpans.Append(_sendSpan);
}
