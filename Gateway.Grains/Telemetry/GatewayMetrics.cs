using System.Diagnostics.Metrics;

namespace Gateway.Telemetry;

/// <summary>
/// The grain side's instruments on the <c>Gateway</c> meter: group commit, delivery and device activations.
/// Names follow the OpenTelemetry conventions (dotted, unit not in the name; Prometheus adds the suffixes).
/// </summary>
public sealed class GatewayMetrics
{
    /// <summary>Tag naming the sink of a delivery metric.</summary>
    public const string SinkTag = "gateway.sink";

    /// <summary>Tag naming the lane of a metric.</summary>
    public const string LaneTag = "gateway.lane";

    private readonly Histogram<int> _commitOperations;
    private readonly Histogram<double> _commitDuration;
    private readonly Counter<long> _commitFailures;
    private readonly Histogram<double> _deliveryDuration;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _deadLetters;
    private readonly UpDownCounter<long> _activeDevices;
    private readonly Counter<long> _tailDropped;
    private readonly Counter<long> _laneRefused;
    private readonly Counter<long> _laneExpired;

    /// <summary>Creates the instruments on the meter <see cref="GatewayTelemetry.Name"/> of <paramref name="meterFactory"/>.</summary>
    public GatewayMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(GatewayTelemetry.Name);
        _commitOperations = Meter.CreateHistogram("gateway.wal.commit.operations", "{operation}",
            "Operations (appends, leases, acks, ...) one group commit carried.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096] });
        _commitDuration = Meter.CreateHistogram("gateway.wal.commit.duration", "s",
            "Time one group commit took, from BEGIN to COMMIT (synced when it held an operation that must be durable).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
        _commitFailures = Meter.CreateCounter<long>("gateway.wal.commit.failures", "{transaction}",
            "Group commits that failed; none of their operations is durable.");
        _deliveryDuration = Meter.CreateHistogram("gateway.delivery.duration", "s",
            "Time from the gateway accepting a message to its sink acknowledging it.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400] });
        _delivered = Meter.CreateCounter<long>("gateway.delivery.records", "{record}", "Records a sink acknowledged.");
        _retries = Meter.CreateCounter<long>("gateway.delivery.retries", "{record}", "Records whose delivery failed and was scheduled again.");
        _deadLetters = Meter.CreateCounter<long>("gateway.delivery.dead_letters", "{record}", "Records that became Dead (attempts or age exhausted, or a permanent failure).");
        _activeDevices = Meter.CreateUpDownCounter<long>("gateway.devices.active", "{grain}", "Device grains active in this silo.");
        _tailDropped = Meter.CreateCounter<long>("gateway.tail.dropped", "{message}",
            "Accepted messages a live tail missed: not published (stream queue busy or failing) or dropped for a slow viewer. The WAL has them all.");
        _laneRefused = Meter.CreateCounter<long>("gateway.lane.refused", "{message}",
            "Messages refused because their lane (or the gateway) was full: at the lane's share of the high-water marks or below its disk floor.");
        _laneExpired = Meter.CreateCounter<long>("gateway.lane.expired", "{record}",
            "Records that became Dead with reason expired: they waited longer than their lane's time to live.");
    }

    /// <summary>The <c>Gateway</c> meter, for observable instruments registered elsewhere.</summary>
    public Meter Meter { get; }

    /// <summary>
    /// Gives each sink's delivery counters, and the commit failure counter, a series at 0 from the start: a counter
    /// that appears only at its first event hides that event from <c>increase()</c> and <c>rate()</c>, so an alert on
    /// a sink's first dead letter would never fire.
    /// </summary>
    public void StartCountersAtZero(IEnumerable<string> sinks, IEnumerable<string> lanes)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        ArgumentNullException.ThrowIfNull(lanes);
        _commitFailures.Add(0);
        foreach (var lane in lanes)
        {
            var tag = new KeyValuePair<string, object?>(LaneTag, lane);
            _laneRefused.Add(0, tag);
            _laneExpired.Add(0, tag);
        }

        foreach (var sink in sinks)
        {
            var tag = new KeyValuePair<string, object?>(SinkTag, sink);
            _delivered.Add(0, tag);
            _retries.Add(0, tag);
            _deadLetters.Add(0, tag);
        }
    }

    /// <summary>Records one committed group commit.</summary>
    public void GroupCommitted(int operations, TimeSpan duration)
    {
        _commitOperations.Record(operations);
        _commitDuration.Record(duration.TotalSeconds);
    }

    /// <summary>Records one failed group commit.</summary>
    public void GroupCommitFailed() => _commitFailures.Add(1);

    /// <summary>Records a record acknowledged by <paramref name="sink"/>, <paramref name="age"/> after it was accepted.</summary>
    public void Delivered(string sink, TimeSpan age)
    {
        var tag = new KeyValuePair<string, object?>(SinkTag, sink);
        _deliveryDuration.Record(Math.Max(0, age.TotalSeconds), tag);
        _delivered.Add(1, tag);
    }

    /// <summary>Records records of <paramref name="sink"/> scheduled for another attempt.</summary>
    public void Retried(string sink, int records) => _retries.Add(records, new KeyValuePair<string, object?>(SinkTag, sink));

    /// <summary>Records records of <paramref name="sink"/> that became Dead.</summary>
    public void DeadLettered(string sink, int records) => _deadLetters.Add(records, new KeyValuePair<string, object?>(SinkTag, sink));

    /// <summary>Records messages of <paramref name="lane"/> refused because it was full.</summary>
    public void LaneRefused(string lane, int messages) => _laneRefused.Add(messages, new KeyValuePair<string, object?>(LaneTag, lane));

    /// <summary>Records records of <paramref name="lane"/> that expired.</summary>
    public void LaneExpired(string lane, int records) => _laneExpired.Add(records, new KeyValuePair<string, object?>(LaneTag, lane));

    /// <summary>A device grain activated (+1) or deactivated (-1).</summary>
    public void DeviceActivations(int delta) => _activeDevices.Add(delta);

    /// <summary>Records accepted messages a live tail missed; they are stored all the same.</summary>
    public void TailDropped(int messages) => _tailDropped.Add(messages);
}
