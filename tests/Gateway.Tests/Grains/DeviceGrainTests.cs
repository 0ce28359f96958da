using System.Text;
using Gateway.Devices;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Grains;

[Collection(ClusterCollection.Name)]
public sealed class DeviceGrainTests(ClusterFixture fixture)
{
    private static IncomingMessage Json(string json, string? deviceMessageId = null) =>
        new(Encoding.UTF8.GetBytes(json), "application/json", deviceMessageId, null, "test", "devices/test/telemetry");

    private static string NewDeviceId() => "dev-" + Guid.NewGuid().ToString("N")[..12];

    private IDeviceGrain Device(string id) => fixture.Cluster.GrainFactory.GetGrain<IDeviceGrain>(id);

    private long StoredMessages(string deviceId) =>
        WalDatabase.Scalar(fixture.DatabasePath, "SELECT count(*) FROM wal_message WHERE device_id = $d", ("$d", deviceId));

    [Fact]
    public async Task Accepted_messages_get_consecutive_sequences_and_stable_ids_and_are_stored_before_the_reply()
    {
        var deviceId = NewDeviceId();

        var first = await Device(deviceId).AcceptAsync([Json("""{"n":1}"""), Json("""{"n":2}""")]);
        Assert.Equal(2, StoredMessages(deviceId));
        var second = await Device(deviceId).AcceptAsync([Json("""{"n":3}""")]);

        Assert.True(first.IsAccepted);
        Assert.Equal([1L, 2L, 3L], first.Messages.Concat(second.Messages).Select(m => m.Sequence));
        Assert.Equal($"gateway:{deviceId}:3", second.Messages[0].MessageId);
        Assert.Equal(3, StoredMessages(deviceId));
    }

    [Fact]
    public async Task Messages_of_every_device_reach_the_file_sink_in_per_device_order()
    {
        const int devices = 20;
        const int messagesPerDevice = 30;
        var deviceIds = Enumerable.Range(0, devices).Select(_ => NewDeviceId()).ToList();

        // Devices publish concurrently; each device's messages are sent one after another, like a real device.
        await Task.WhenAll(deviceIds.Select(async deviceId =>
        {
            for (var n = 1; n <= messagesPerDevice; n++)
            {
                var result = await Device(deviceId).AcceptAsync([Json($$"""{"n":{{n}}}""")]);
                Assert.True(result.IsAccepted, result.Detail);
            }
        }));

        var wanted = deviceIds.ToHashSet();
        List<SinkLine> lines = [];
        await Eventually.TrueAsync(() =>
        {
            lines = SinkFiles.Read(fixture.SinkFolder).Where(line => wanted.Contains(line.DeviceId)).ToList();
            return lines.Count >= devices * messagesPerDevice;
        }, "every message in the file sink");

        Assert.Equal(devices * messagesPerDevice, lines.Count);
        foreach (var device in lines.GroupBy(line => line.DeviceId))
        {
            Assert.Equal(Enumerable.Range(1, messagesPerDevice).Select(n => (long)n), device.Select(line => line.Sequence));
            Assert.Equal(Enumerable.Range(1, messagesPerDevice), device.Select(line => line.Line.GetProperty("payload").GetProperty("n").GetInt32()));
        }
    }

    [Fact]
    public async Task A_retransmitted_device_message_id_returns_the_original_id_and_is_stored_once()
    {
        var deviceId = NewDeviceId();

        var original = await Device(deviceId).AcceptAsync([Json("""{"t":1}""", "m-1")]);
        var retransmission = await Device(deviceId).AcceptAsync([Json("""{"t":1}""", "m-1"), Json("""{"t":2}""", "m-2")]);

        Assert.False(original.Messages[0].Duplicate);
        Assert.True(retransmission.Messages[0].Duplicate);
        Assert.Equal(original.Messages[0].MessageId, retransmission.Messages[0].MessageId);
        Assert.False(retransmission.Messages[1].Duplicate);
        Assert.Equal(2, StoredMessages(deviceId));
        var status = await Device(deviceId).GetStatusAsync();
        Assert.Equal(2, status.AcceptedCount);
        Assert.Equal(1, status.DuplicateCount);
    }

    [Fact]
    public async Task Duplicates_are_still_recognized_after_the_grain_is_reactivated()
    {
        var deviceId = NewDeviceId();
        var original = await Device(deviceId).AcceptAsync([Json("""{"t":1}""", "m-1")]);

        await fixture.Cluster.DeactivateAsync(Device(deviceId));
        var retransmission = await Device(deviceId).AcceptAsync([Json("""{"t":1}""", "m-1")]);

        Assert.True(retransmission.Messages[0].Duplicate);
        Assert.Equal(original.Messages[0].MessageId, retransmission.Messages[0].MessageId);
        Assert.Equal(1, StoredMessages(deviceId));
    }

    [Fact]
    public async Task A_batch_with_one_bad_message_is_refused_whole_naming_the_message_and_nothing_is_stored()
    {
        var deviceId = NewDeviceId();

        var result = await Device(deviceId).AcceptAsync([Json("""{"ok":1}"""), Json("""{"broken":""")]);

        Assert.Equal(RefusalReason.MalformedJson, result.Refusal);
        Assert.StartsWith("Message 1:", result.Detail);
        Assert.Equal(0, StoredMessages(deviceId));
        Assert.Equal(1, (await Device(deviceId).GetStatusAsync()).RefusedCount);
    }

    [Fact]
    public async Task An_oversized_payload_is_refused_and_nothing_is_stored()
    {
        var deviceId = NewDeviceId();
        var huge = new IncomingMessage(new byte[300 * 1024], null, null, null, "test", "devices/test/telemetry");

        var result = await Device(deviceId).AcceptAsync([huge]);

        Assert.Equal(RefusalReason.PayloadTooLarge, result.Refusal);
        Assert.Equal(0, StoredMessages(deviceId));
    }

    [Fact]
    public async Task An_invalid_device_id_and_an_empty_batch_are_refused()
    {
        Assert.Equal(RefusalReason.InvalidDeviceId, (await Device("bad/id").AcceptAsync([Json("{}")])).Refusal);
        Assert.Equal(RefusalReason.EmptyBatch, (await Device(NewDeviceId()).AcceptAsync([])).Refusal);
    }

    [Fact]
    public async Task Status_reports_first_and_last_seen_counts_and_partition()
    {
        var deviceId = NewDeviceId();
        var before = DateTimeOffset.UtcNow;

        await Device(deviceId).AcceptAsync([Json("{}"), Json("{}")]);
        var status = await Device(deviceId).GetStatusAsync();

        Assert.Equal(deviceId, status.DeviceId);
        Assert.Equal(2, status.AcceptedCount);
        Assert.Equal(2, status.LastSequence);
        Assert.InRange(status.FirstSeen!.Value, before, DateTimeOffset.UtcNow);
        Assert.InRange(status.Partition, 0, 7);
    }
}
