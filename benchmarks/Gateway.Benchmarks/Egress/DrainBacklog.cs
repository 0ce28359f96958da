using Gateway.Benchmarks.Wal;
using Gateway.Devices;
using Gateway.Partitions;
using Gateway.Storage;
using Gateway.Wal;

namespace Gateway.Benchmarks.Egress;

/// <summary>
/// The backlog the drain scenarios start from, 1,000,000 messages of 100 devices for one http sink, written straight
/// into the WAL of a gateway that is not running (1,000 messages per append, one route each), and the gateway settings
/// that send it to a local plain-HTTP cloud.
/// </summary>
internal static class DrainBacklog
{
    public const string SinkName = "cloud";
    public const int Devices = 100;
    public const int Backlog = 1_000_000;
    private const int AppendBatch = 1_000;

    /// <summary>The sink (batches of 1,000 to <c>http://127.0.0.1:{cloudPort}/ingest</c>) and a high-water mark above the backlog.</summary>
    public static Dictionary<string, string> Settings(int cloudPort) => new()
    {
        ["Gateway:Sinks:0:Name"] = SinkName,
        ["Gateway:Sinks:0:Type"] = "http",
        ["Gateway:Sinks:0:Url"] = $"http://127.0.0.1:{cloudPort}/ingest",
        ["Gateway:Sinks:0:AllowInsecure"] = "true",
        ["Gateway:Delivery:BatchSize"] = "1000",
        ["Gateway:Wal:HighWaterMessages"] = "10000000",
    };

    /// <param name="lane">The priority every message is stored under (<see cref="Lanes.Lane"/>).</param>
    public static async Task FillAsync(SqliteDatabase database, int lane, CancellationToken cancellationToken)
    {
        using var store = WalStores.Open(database, maxBatchOperations: 64);
        var perDevice = Backlog / Devices;
        for (var device = 0; device < Devices; device++)
        {
            var deviceId = SampleTelemetry.DeviceId(device);
            PartitionKey[] routes = [new(SinkName, device % SampleTelemetry.PartitionCount)];
            var topic = TelemetryTopic.Of(deviceId);
            for (var first = 1; first <= perDevice; first += AppendBatch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var messages = new List<WalMessage>(AppendBatch);
                for (long sequence = first; sequence < first + AppendBatch; sequence++)
                {
                    messages.Add(new WalMessage($"gateway:{deviceId}:{sequence}", sequence, null, DateTimeOffset.UtcNow,
                        MediaTypes.Json, SampleTelemetry.Json(deviceId, sequence), null, topic, routes, lane));
                }

                await store.AppendAsync(new WalAppend(deviceId, messages)).ConfigureAwait(false);
            }
        }
    }
}
