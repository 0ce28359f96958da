using System.Security.Cryptography;
using System.Text;
using Gateway.DeadLetters;
using Gateway.Partitions;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;

namespace Gateway.Tests.Wal;

/// <summary>
/// What every WAL store must answer the admin API (message lifecycle, partition depths, device counts and listing,
/// storage); one derived class per store runs the same claims against it.
/// </summary>
public abstract class WalAdminQueryTests
{
    /// <summary>Opens a fresh store of the kind under test.</summary>
    protected abstract IWalUnderTest Open();

    // Whole milliseconds: both stores keep times as Unix milliseconds.
    protected static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    [Fact]
    public async Task Message_lifecycle_shows_each_delivery_and_its_history_through_lease_failure_ack_and_recovery()
    {
        using var wal = Open();
        var file = new PartitionKey("file", 0);
        var cloud = new PartitionKey("cloud", 3);
        var message = Message("a", 1, T0, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", file, cloud);
        await wal.Store.AppendAsync(new WalAppend("a", [message]));
        var retry = T0.AddSeconds(30);

        await wal.Store.FailAsync(await wal.Store.LeaseAsync(file, 10), Failure("HTTP 503", permanent: false, retry));
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(file, 10));
        await wal.Store.LeaseAsync(cloud, 10);

        var lifecycle = await wal.Store.GetMessageLifecycleAsync(message.MessageId);

        Assert.NotNull(lifecycle);
        Assert.Equal(("a", 1L, "devices/a/telemetry", MediaTypes.Json, message.Payload.Length, T0, message.TraceParent),
            (lifecycle.DeviceId, lifecycle.Sequence, lifecycle.Topic, lifecycle.ContentType, lifecycle.PayloadBytes, lifecycle.ReceivedAt, lifecycle.TraceParent));
        Assert.Equal([("file", 0, DeliveryState.Acked, 1), ("cloud", 3, DeliveryState.InFlight, 0)],
            lifecycle.Deliveries.Select(d => (d.Sink, d.Partition, d.State, d.Attempts)));
        var toFile = lifecycle.Deliveries[0];
        Assert.Equal(("HTTP 503", "HTTP 503", retry), (toFile.FirstError, toFile.LastError, toFile.NextAttemptAt));
        Assert.Equal(
            [
                (DeliveryState.Enqueued, DeliveryState.InFlight, 0, (string?)null),
                (DeliveryState.InFlight, DeliveryState.Enqueued, 1, "HTTP 503"),
                (DeliveryState.Enqueued, DeliveryState.InFlight, 1, null),
                (DeliveryState.InFlight, DeliveryState.Acked, 1, null),
            ],
            toFile.Events.Select(e => (e.From, e.To, e.Attempts, e.Error)));
        Assert.Equal(toFile.Events.Select(e => e.At).Order(), toFile.Events.Select(e => e.At));
        Assert.Equal(toFile.UpdatedAt, toFile.Events[^1].At);
        Assert.Equal(
            [(DeliveryState.Enqueued, DeliveryState.InFlight, 0, (string?)null)],
            lifecycle.Deliveries[1].Events.Select(e => (e.From, e.To, e.Attempts, e.Error)));

        await wal.Store.RecoverInFlightAsync(cloud);
        var recovered = (await wal.Store.GetMessageLifecycleAsync(message.MessageId))!.Deliveries[1];
        Assert.Equal((DeliveryState.Enqueued, 0), (recovered.State, recovered.Attempts));

        Assert.Null(await wal.Store.GetMessageLifecycleAsync("gw:a:2"));
        Assert.Null(await wal.Store.GetMessageLifecycleAsync("not a message id"));
    }

    [Fact]
    public async Task Delivery_history_is_deleted_with_its_delivery_by_compaction_and_purge()
    {
        using var wal = Open();
        var file = new PartitionKey("file", 0);
        var cloud = new PartitionKey("cloud", 0);
        var message = Message("a", 1, T0, null, file, cloud);
        await wal.Store.AppendAsync(new WalAppend("a", [message]));
        // A failed attempt first, so both deliveries have recorded history rows on either store.
        await wal.Store.FailAsync(await wal.Store.LeaseAsync(file, 10), Failure("HTTP 503", permanent: false, T0));
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(file, 10));
        await wal.Store.FailAsync(await wal.Store.LeaseAsync(cloud, 10), Failure("HTTP 400", permanent: true, T0));
        var fileDelivery = wal.Scalar("SELECT id FROM wal_delivery WHERE sink = 'file'");
        Assert.True(wal.Scalar($"SELECT count(*) FROM wal_delivery_event WHERE delivery_id = {fileDelivery}") > 0);
        var cloudRows = wal.Scalar($"SELECT count(*) FROM wal_delivery_event WHERE delivery_id <> {fileDelivery}");
        Assert.True(cloudRows > 0);

        Assert.Equal(1, await wal.Store.CompactAsync(DateTimeOffset.UtcNow.AddMinutes(1), 100));

        var lifecycle = await wal.Store.GetMessageLifecycleAsync(message.MessageId);
        Assert.Equal(["cloud"], lifecycle!.Deliveries.Select(d => d.Sink));
        Assert.Equal(2, lifecycle.Deliveries[0].Events.Count);
        Assert.Equal(cloudRows, wal.Scalar("SELECT count(*) FROM wal_delivery_event"));

        Assert.Equal(1, await wal.Store.PurgeDeadAsync(new DeadLetterFilter(Sink: "cloud")));

        Assert.Equal(0, wal.Scalar("SELECT count(*) FROM wal_delivery_event"));
        Assert.Null(await wal.Store.GetMessageLifecycleAsync(message.MessageId));
    }

    [Fact]
    public async Task Partition_depths_count_each_state_with_oldest_pending_most_attempts_and_next_retry()
    {
        using var wal = Open();
        PartitionKey P(int partition) => new("file", partition);
        var retry = T0.AddMinutes(5);
        await wal.Store.AppendAsync(new WalAppend("a", [
            Message("a", 1, T0, null, P(0)),
            Message("a", 2, T0.AddSeconds(1), null, P(0)),
            Message("a", 3, T0.AddSeconds(-5), null, P(1)),
            Message("a", 4, T0.AddSeconds(10), null, P(1)),
            Message("a", 5, T0, null, P(2)),
            Message("a", 6, T0, null, P(3)),
            Message("a", 7, T0.AddHours(-1), null, new PartitionKey("cloud", 0)),
        ]));
        await wal.Store.FailAsync(await wal.Store.LeaseAsync(P(0), 1), Failure("timeout", permanent: false, retry));
        await wal.Store.LeaseAsync(P(1), 1);
        await wal.Store.FailAsync(await wal.Store.LeaseAsync(P(2), 1), Failure("HTTP 400", permanent: true, retry));
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(P(3), 1));

        var depths = await wal.Store.GetPartitionDepthsAsync("file");

        Assert.Equal(
            [
                new PartitionDepth(0, Enqueued: 2, InFlight: 0, Dead: 0, T0, MaxAttempts: 1, retry),
                new PartitionDepth(1, Enqueued: 1, InFlight: 1, Dead: 0, T0.AddSeconds(-5), MaxAttempts: 0, null),
                new PartitionDepth(2, Enqueued: 0, InFlight: 0, Dead: 1, null, MaxAttempts: 0, null),
            ],
            depths);
        Assert.Empty(await wal.Store.GetPartitionDepthsAsync("unknown"));
    }

    [Fact]
    public async Task Device_delivery_counts_are_the_devices_buffered_and_dead_deliveries()
    {
        using var wal = Open();
        var file = new PartitionKey("file", 0);
        var cloud = new PartitionKey("cloud", 0);
        await wal.Store.AppendAsync(new WalAppend("a", [Message("a", 1, T0, null, file, cloud), Message("a", 2, T0, null, file)]));
        await wal.Store.AppendAsync(new WalAppend("b", [Message("b", 1, T0, null, file)]));
        await wal.Store.AppendAsync(new WalAppend("a", [Message("a", 3, T0, null, cloud)]));
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(file, 1));
        await wal.Store.FailAsync(await wal.Store.LeaseAsync(cloud, 1), Failure("HTTP 400", permanent: true, T0));
        await wal.Store.LeaseAsync(file, 1);

        Assert.Equal(new DeviceDeliveryCounts(Buffered: 2, Dead: 1), await wal.Store.GetDeviceDeliveryCountsAsync("a"));
        Assert.Equal(new DeviceDeliveryCounts(Buffered: 1, Dead: 0), await wal.Store.GetDeviceDeliveryCountsAsync("b"));
        Assert.Equal(new DeviceDeliveryCounts(0, 0), await wal.Store.GetDeviceDeliveryCountsAsync("unknown"));
    }

    [Fact]
    public async Task Devices_that_stored_messages_and_directory_devices_are_listed_in_byte_order_by_page_and_seen_since()
    {
        using var wal = Open();
        var file = new PartitionKey("file", 0);
        await wal.Store.AppendAsync(new WalAppend("b", [Message("b", 1, T0.AddMinutes(-10), null, file)]));
        await wal.Store.AppendAsync(new WalAppend("b", [Message("b", 2, T0.AddMinutes(-2), null, file)]));
        await wal.Store.AppendAsync(new WalAppend("d", [Message("d", 1, T0.AddMinutes(-30), null, file)]));
        var transactions = wal.Store.GetStatistics().Transactions;

        // Provisioned before sending; a device also in wal_device, known earlier by the directory; an upper-case id.
        await wal.Store.RecordDeviceAsync(new DeviceDirectoryEntry("a", null, null));
        await wal.Store.RecordDeviceAsync(new DeviceDirectoryEntry("b", T0.AddHours(-1), T0.AddHours(-1)));
        await wal.Store.RecordDeviceAsync(new DeviceDirectoryEntry("c", T0.AddMinutes(-20), T0.AddMinutes(-20)));
        await wal.Store.RecordDeviceAsync(new DeviceDirectoryEntry("Z", T0, T0));

        Assert.True(wal.Store.GetStatistics().Transactions >= transactions + 4, "directory writes go through the writer");
        Assert.Equal(
            [
                new DeviceDirectoryEntry("Z", T0, T0),
                new DeviceDirectoryEntry("a", null, null),
                new DeviceDirectoryEntry("b", T0.AddHours(-1), T0.AddMinutes(-2)),
            ],
            await wal.Store.ListDevicesAsync(null, null, 3));
        Assert.Equal(
            [new DeviceDirectoryEntry("c", T0.AddMinutes(-20), T0.AddMinutes(-20)), new DeviceDirectoryEntry("d", T0.AddMinutes(-30), T0.AddMinutes(-30))],
            await wal.Store.ListDevicesAsync("b", null, 3));
        Assert.Empty(await wal.Store.ListDevicesAsync("d", null, 3));
        Assert.Equal(["Z", "b", "c"], (await wal.Store.ListDevicesAsync(null, T0.AddMinutes(-20), 10)).Select(d => d.DeviceId));
        Assert.Equal(["c"], (await wal.Store.ListDevicesAsync("b", T0.AddMinutes(-20), 10)).Select(d => d.DeviceId));
    }

    [Fact]
    public async Task Recording_a_directory_device_keeps_its_first_seen_and_only_moves_last_seen_forward()
    {
        using var wal = Open();
        await wal.Store.RecordDeviceAsync(new DeviceDirectoryEntry("c", null, null));
        await wal.Store.RecordDeviceAsync(new DeviceDirectoryEntry("c", T0, T0));
        await wal.Store.RecordDeviceAsync(new DeviceDirectoryEntry("c", T0.AddMinutes(1), T0.AddMinutes(2)));
        await wal.Store.RecordDeviceAsync(new DeviceDirectoryEntry("c", T0.AddMinutes(3), T0.AddMinutes(1)));
        await wal.Store.RecordDeviceAsync(new DeviceDirectoryEntry("c", null, null));

        Assert.Equal([new DeviceDirectoryEntry("c", T0, T0.AddMinutes(2))], await wal.Store.ListDevicesAsync(null, null, 10));
    }

    [Fact]
    public async Task Storage_reports_the_database_size_and_the_oldest_pending_message_in_wal_order()
    {
        using var wal = Open();
        var empty = await wal.Store.GetStorageAsync();
        Assert.True(empty.DatabaseBytes > 0);
        Assert.Null(empty.OldestPendingReceivedAt);

        var first = new PartitionKey("file", 0);
        var second = new PartitionKey("file", 1);
        var large = Message("a", 1, T0, null, first) with { Payload = RandomNumberGenerator.GetBytes(2 * 1024 * 1024) };
        await wal.Store.AppendAsync(new WalAppend("a", [large]));
        await wal.Store.AppendAsync(new WalAppend("b", [Message("b", 1, T0.AddMinutes(-1), null, second)]));

        var stored = await wal.Store.GetStorageAsync();
        Assert.True(stored.DatabaseBytes > empty.DatabaseBytes + 1024 * 1024, $"{empty.DatabaseBytes} -> {stored.DatabaseBytes} bytes");
        Assert.Equal(T0, stored.OldestPendingReceivedAt);

        // In flight is still pending; once delivered, the next message in WAL order is the oldest.
        var leased = await wal.Store.LeaseAsync(first, 10);
        Assert.Equal(T0, (await wal.Store.GetStorageAsync()).OldestPendingReceivedAt);
        await wal.Store.AckAsync(leased);
        Assert.Equal(T0.AddMinutes(-1), (await wal.Store.GetStorageAsync()).OldestPendingReceivedAt);
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(second, 10));
        Assert.Null((await wal.Store.GetStorageAsync()).OldestPendingReceivedAt);
    }

    [Fact]
    public async Task Sink_backlogs_count_each_sinks_enqueued_and_in_flight_deliveries_and_date_its_oldest_in_wal_order()
    {
        using var wal = Open();
        Assert.Empty(await wal.Store.GetSinkBacklogsAsync());
        var file = new PartitionKey("file", 0);
        var cloud = new PartitionKey("cloud", 1);
        await wal.Store.AppendAsync(new WalAppend("a", [Message("a", 1, T0, null, file, cloud), Message("a", 2, T0.AddSeconds(1), null, file, cloud)]));
        await wal.Store.AppendAsync(new WalAppend("b", [Message("b", 1, T0.AddSeconds(-5), null, cloud)]));

        // In flight still counts; a dead letter does not.
        var inFlight = await wal.Store.LeaseAsync(file, 1);
        await wal.Store.FailAsync(await wal.Store.LeaseAsync(cloud, 1), Failure("HTTP 400", permanent: true, T0));
        Assert.Equal(
            [new SinkBacklog("cloud", 2, T0.AddSeconds(1)), new SinkBacklog("file", 2, T0)],
            await wal.Store.GetSinkBacklogsAsync());

        await wal.Store.AckAsync(inFlight);
        Assert.Equal(
            [new SinkBacklog("cloud", 2, T0.AddSeconds(1)), new SinkBacklog("file", 1, T0.AddSeconds(1))],
            await wal.Store.GetSinkBacklogsAsync());

        await wal.Store.AckAsync(await wal.Store.LeaseAsync(file, 10));
        Assert.Equal([new SinkBacklog("cloud", 2, T0.AddSeconds(1))], await wal.Store.GetSinkBacklogsAsync());
    }

    protected static WalMessage Message(string deviceId, long sequence, DateTimeOffset receivedAt, string? traceParent, params PartitionKey[] routes) =>
        new($"gw:{deviceId}:{sequence}", sequence, null, receivedAt, MediaTypes.Json, Encoding.UTF8.GetBytes($$"""{"n":{{sequence}}}"""), traceParent,
            $"devices/{deviceId}/telemetry", routes);

    protected static DeliveryFailure Failure(string error, bool permanent, DateTimeOffset nextAttemptAt) =>
        new(error, permanent, nextAttemptAt, MaxAttempts: 10, DeadIfReceivedBefore: DateTimeOffset.MinValue);
}

public sealed class SqliteWalAdminQueryTests : WalAdminQueryTests
{
    protected override IWalUnderTest Open() => new SqliteWalUnderTest();

    [Fact]
    public async Task A_first_lease_and_an_ack_write_no_history_row_yet_the_history_shows_both()
    {
        using var wal = Open();
        var file = new PartitionKey("file", 0);
        var message = Message("a", 1, T0, null, file);
        await wal.Store.AppendAsync(new WalAppend("a", [message]));

        await wal.Store.AckAsync(await wal.Store.LeaseAsync(file, 10));

        // A drain writes only the delivery rows' own changes: no history row per record.
        Assert.Equal(0, wal.Scalar("SELECT count(*) FROM wal_delivery_event"));
        var delivery = Assert.Single((await wal.Store.GetMessageLifecycleAsync(message.MessageId))!.Deliveries);
        Assert.Equal(
            [(DeliveryState.Enqueued, DeliveryState.InFlight, 0), (DeliveryState.InFlight, DeliveryState.Acked, 0)],
            delivery.Events.Select(e => (e.From, e.To, e.Attempts)));
        Assert.Equal(delivery.UpdatedAt, delivery.Events[^1].At);
        Assert.True(delivery.Events[0].At <= delivery.Events[1].At);
    }

    [Fact]
    public async Task An_attempt_abandoned_without_an_outcome_leaves_no_history_and_the_one_that_settles_keeps_its_lease_time()
    {
        using var wal = Open();
        var file = new PartitionKey("file", 0);
        var message = Message("a", 1, T0, null, file);
        await wal.Store.AppendAsync(new WalAppend("a", [message]));

        // Leases live in memory: an attempt abandoned by a recovery (or a crash) wrote nothing.
        await wal.Store.LeaseAsync(file, 10);
        await wal.Store.RecoverInFlightAsync(file);
        var settled = await wal.Store.LeaseAsync(file, 10);
        await wal.Store.AckAsync(settled);

        var delivery = Assert.Single((await wal.Store.GetMessageLifecycleAsync(message.MessageId))!.Deliveries);
        Assert.Equal(
            [(DeliveryState.Enqueued, DeliveryState.InFlight, settled[0].LeasedAt), (DeliveryState.InFlight, DeliveryState.Acked, delivery.UpdatedAt)],
            delivery.Events.Select(e => (e.From, e.To, e.At)));
        Assert.Equal(0, wal.Scalar("SELECT count(*) FROM wal_delivery_event"));
    }

    [Fact]
    public async Task A_retry_records_its_attempts_lease_and_failure_in_the_settling_commit_only()
    {
        using var wal = Open();
        var file = new PartitionKey("file", 0);
        var message = Message("a", 1, T0, null, file);
        await wal.Store.AppendAsync(new WalAppend("a", [message]));
        var first = await wal.Store.LeaseAsync(file, 10);
        await wal.Store.FailAsync(first, Failure("HTTP 503", permanent: false, T0));
        var second = await wal.Store.LeaseAsync(file, 10);
        Assert.Equal(1, wal.Scalar("SELECT count(*) FROM wal_delivery_event"));

        await wal.Store.FailAsync(second, Failure("HTTP 502", permanent: false, T0));

        var delivery = Assert.Single((await wal.Store.GetMessageLifecycleAsync(message.MessageId))!.Deliveries);
        Assert.Equal(
            [
                (DeliveryState.Enqueued, DeliveryState.InFlight, first[0].LeasedAt, (string?)null),
                (DeliveryState.InFlight, DeliveryState.Enqueued, delivery.Events[1].At, "HTTP 503"),
                (DeliveryState.Enqueued, DeliveryState.InFlight, second[0].LeasedAt, null),
                (DeliveryState.InFlight, DeliveryState.Enqueued, delivery.UpdatedAt, "HTTP 502"),
            ],
            delivery.Events.Select(e => (e.From, e.To, e.At, e.Error)));
    }
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlWalAdminQueryTests(PostgreSqlServer server) : WalAdminQueryTests
{
    protected override IWalUnderTest Open() => PostgreSqlWalUnderTest.CreateAsync(server).GetAwaiter().GetResult();
}
