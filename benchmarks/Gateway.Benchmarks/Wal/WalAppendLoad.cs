using Gateway.Benchmarks.Measurement;
using Gateway.Devices;
using Gateway.Partitions;
using Gateway.Wal;
using Gateway.Wal.Sqlite;

namespace Gateway.Benchmarks.Wal;

/// <summary>
/// The load both WAL scenarios measure: 64 devices at once, each appending one-message batches one after
/// the other (as the device grain does for single HTTP messages), each routed to one partition of the file sink.
/// </summary>
internal static class WalAppendLoad
{
    /// <summary>Concurrent devices.</summary>
    public const int Devices = 64;

    /// <summary>Appends <paramref name="messages"/> messages, continuing each device's sequence where the WAL has it.</summary>
    public static async Task<WalLoadResult> RunAsync(SqliteWalStore store, int messages, CancellationToken cancellationToken)
    {
        var lastSequences = new long[Devices];
        for (var i = 0; i < Devices; i++)
        {
            lastSequences[i] = (await store.GetDeviceAsync(SampleTelemetry.DeviceId(i)).ConfigureAwait(false)).LastSequence;
        }

        var transactionsBefore = store.GetStatistics().Transactions;
        var load = await ConcurrentLoad.RunAsync(Devices, messages, i => AppendOneAtATime(store, i, lastSequences[i]), cancellationToken)
            .ConfigureAwait(false);
        return new WalLoadResult(load, store.GetStatistics().Transactions - transactionsBefore);
    }

    private static LoadOperation AppendOneAtATime(SqliteWalStore store, int deviceIndex, long lastSequence)
    {
        var deviceId = SampleTelemetry.DeviceId(deviceIndex);
        var topic = TelemetryTopic.Of(deviceId);
        PartitionKey[] routes = [new(SampleTelemetry.SinkName, deviceIndex % SampleTelemetry.PartitionCount)];
        return async _ =>
        {
            var sequence = ++lastSequence;
            var message = new WalMessage(
                $"gateway:{deviceId}:{sequence}",
                sequence,
                SampleTelemetry.MessageId(deviceId, sequence),
                DateTimeOffset.UtcNow,
                MediaTypes.Json,
                SampleTelemetry.Json(deviceId, sequence),
                TraceParent: null,
                topic,
                routes);
            await store.AppendAsync(new WalAppend(deviceId, [message])).ConfigureAwait(false);
            return true;
        };
    }
}
