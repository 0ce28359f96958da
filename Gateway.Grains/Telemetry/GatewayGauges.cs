using System.Diagnostics.Metrics;
using Gateway.Lanes;
using Gateway.Partitions;
using Gateway.Sinks;
using Gateway.Storage;
using Gateway.Wal;
using Microsoft.Extensions.Logging;

namespace Gateway.Telemetry;

/// <summary>
/// The observable instruments of the <c>Gateway</c> meter, read when metrics are collected (a scrape), never
/// on the message path: WAL content by state, pending and file bytes, backpressure, disk free, sink circuit states and partitions backing off,
/// sink backlogs and cluster members. Created at silo start, it also starts the sinks' counters at zero.
/// </summary>
internal sealed class GatewayGauges : ILifecycleParticipant<ISiloLifecycle>
{
    private const string StateTag = "gateway.wal.state";

    // A backlog read is one pass over the pending deliveries: at most one per scrape, never more often than this.
    private static readonly TimeSpan BacklogMaxAge = TimeSpan.FromSeconds(5);

    public GatewayGauges(
        GatewayMetrics metrics, IDeliveryLog wal, IWalAdmin admin, IngestPressure pressure, SinkCatalog sinks, LaneCatalog lanes, BackingOffPartitions backingOff,
        SqliteDatabase database, IClusterMembershipService membership, TimeProvider time, ILogger<GatewayGauges> logger)
    {
        metrics.StartCountersAtZero(sinks.Names, lanes.Lanes.Select(lane => lane.Name));
        var meter = metrics.Meter;
        var backlogs = new ScrapeSample<IReadOnlyList<SinkBacklog>>(admin.GetSinkBacklogsAsync, BacklogMaxAge, time, logger);
        var laneBacklogs = new ScrapeSample<IReadOnlyList<LaneBacklog>>(admin.GetLaneBacklogsAsync, BacklogMaxAge, time, logger);
        meter.CreateObservableUpDownCounter<long>("gateway.wal.records", () =>
        {
            var statistics = wal.GetStatistics();
            return (IEnumerable<Measurement<long>>)
            [
                new Measurement<long>(statistics.EnqueuedRecords, new KeyValuePair<string, object?>(StateTag, "enqueued")),
                new Measurement<long>(statistics.InFlightRecords, new KeyValuePair<string, object?>(StateTag, "in_flight")),
                new Measurement<long>(statistics.AckedRecords, new KeyValuePair<string, object?>(StateTag, "acked")),
                new Measurement<long>(statistics.DeadRecords, new KeyValuePair<string, object?>(StateTag, "dead")),
            ];
        }, "{record}", "Deliveries in the WAL by state (one per message and sink).");
        meter.CreateObservableUpDownCounter("gateway.wal.pending.size", () => wal.GetStatistics().PendingBytes,
            "By", "Payload bytes of the Enqueued and InFlight deliveries (the byte high-water mark applies to it).");
        meter.CreateObservableUpDownCounter("gateway.wal.file.size", () => FileBytes(database.FilePath) + FileBytes(database.FilePath + "-wal"),
            "By", "Size of the SQLite database file and its write-ahead journal.");
        meter.CreateObservableCounter("gateway.wal.transactions", () => wal.GetStatistics().Transactions,
            "{transaction}", "Group commits since start.");
        meter.CreateObservableCounter("gateway.wal.syncs", () => wal.GetStatistics().SyncedTransactions,
            "{transaction}", "Group commits since start that synced the log to disk (those holding an append or another operation that must be durable at once).");
        meter.CreateObservableGauge("gateway.ingest.backpressure", () => pressure.Check().Reason == Devices.RefusalReason.None ? 0 : 1,
            "1", "1 while ingest refuses new messages (WAL above a high-water mark or disk below its floor), else 0.");
        meter.CreateObservableUpDownCounter("gateway.disk.free", () => pressure.DiskFreeBytes,
            "By", "Free bytes on the data folder's disk (checked at most once a second).");
        meter.CreateObservableUpDownCounter("gateway.disk.floor", () => pressure.DiskFreeFloorBytes,
            "By", "Free bytes below which ingest refuses new messages (Gateway:Wal:DiskFreeFloorBytes).");
        meter.CreateObservableGauge("gateway.sink.circuit.state", () => CircuitStates(sinks),
            "1", "The sink's circuit breaker on this silo: 0 closed (sending), 1 open (waiting out an outage), 2 half-open (one probe out).");
        meter.CreateObservableUpDownCounter("gateway.sink.partitions.failing", () => FailingPartitions(sinks, backingOff),
            "{partition}", "Partitions of the sink backing off after a failed delivery.");
        meter.CreateObservableUpDownCounter("gateway.sink.backlog", () => Backlogs(sinks, backlogs.Latest, backlog => backlog?.Records ?? 0),
            "{record}", "The sink's deliveries Enqueued or InFlight (read at most every 5 s; in cluster mode the whole cluster's, alike on every silo).");
        meter.CreateObservableGauge("gateway.sink.oldest_pending.age",
            () => Backlogs(sinks, backlogs.Latest, backlog => backlog?.OldestPendingReceivedAt is { } oldest ? Math.Max(0, (time.GetUtcNow() - oldest).TotalSeconds) : 0),
            "s", "Age of the oldest message the sink has still to deliver; 0 when it has none.");
        meter.CreateObservableUpDownCounter("gateway.lane.backlog", () => LaneBacklogs(lanes, laneBacklogs.Latest, backlog => backlog?.Records ?? 0),
            "{record}", "The lane's deliveries Enqueued or InFlight (read at most every 5 s).");
        meter.CreateObservableUpDownCounter("gateway.lane.pending.size", () => LaneBacklogs(lanes, laneBacklogs.Latest, backlog => backlog?.Bytes ?? 0),
            "By", "Payload bytes of the lane's deliveries Enqueued or InFlight.");
        meter.CreateObservableGauge("gateway.lane.oldest_pending.age",
            () => LaneBacklogs(lanes, laneBacklogs.Latest, backlog => backlog?.OldestPendingReceivedAt is { } oldest ? Math.Max(0, (time.GetUtcNow() - oldest).TotalSeconds) : 0),
            "s", "Age of the oldest message the lane has still to deliver; 0 when it has none.");
        meter.CreateObservableUpDownCounter("gateway.cluster.silos.active",
            () => membership.CurrentSnapshot.Members.Values.Count(member => member.Status == SiloStatus.Active),
            "{silo}", "Silos this silo's membership view holds as active (1 on a single gateway).");
    }

    // Nothing to do at any stage: taking part makes the silo create this object, and so the instruments, at start.
    public void Participate(ISiloLifecycle lifecycle)
    {
    }

    private static IEnumerable<Measurement<int>> FailingPartitions(SinkCatalog sinks, BackingOffPartitions backingOff)
    {
        foreach (var sink in sinks.Names)
        {
            yield return new Measurement<int>(backingOff.FailingPartitions(sink), new KeyValuePair<string, object?>(GatewayMetrics.SinkTag, sink));
        }
    }

    // Every configured sink gets a series (0 when it has nothing pending); none at all before the first read ended.
    private static IEnumerable<Measurement<T>> Backlogs<T>(SinkCatalog sinks, IReadOnlyList<SinkBacklog>? backlogs, Func<SinkBacklog?, T> value)
        where T : struct
    {
        if (backlogs is null)
        {
            yield break;
        }

        foreach (var sink in sinks.Names)
        {
            yield return new Measurement<T>(value(backlogs.FirstOrDefault(backlog => backlog.Sink == sink)), new KeyValuePair<string, object?>(GatewayMetrics.SinkTag, sink));
        }
    }

    // Every configured lane gets a series (0 when it has nothing pending), and so does a priority no lane has now that
    // still holds records (stored under an earlier configuration); none at all before the first read ended.
    private static IEnumerable<Measurement<T>> LaneBacklogs<T>(LaneCatalog lanes, IReadOnlyList<LaneBacklog>? backlogs, Func<LaneBacklog?, T> value)
        where T : struct
    {
        if (backlogs is null)
        {
            yield break;
        }

        var priorities = lanes.Lanes.Select(lane => lane.Priority).Union(backlogs.Select(backlog => backlog.Lane));
        foreach (var priority in priorities)
        {
            yield return new Measurement<T>(value(backlogs.FirstOrDefault(backlog => backlog.Lane == priority)),
                new KeyValuePair<string, object?>(GatewayMetrics.LaneTag, lanes.NameOf(priority)));
        }
    }

    private static IEnumerable<Measurement<int>> CircuitStates(SinkCatalog sinks)
    {
        foreach (var sink in sinks.Names)
        {
            yield return new Measurement<int>((int)sinks.CircuitOf(sink).State, new KeyValuePair<string, object?>(GatewayMetrics.SinkTag, sink));
        }
    }

    private static long FileBytes(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? file.Length : 0;
    }
}
