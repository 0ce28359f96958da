using System.Text;
using Gateway.Cluster;
using Gateway.DeadLetters;
using Gateway.Partitions;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;
using Gateway.Wal.PostgreSql;
using Gateway.Wal.Sqlite;

namespace Gateway.Tests.Wal;

/// <summary>What every WAL store must do; one derived class per store runs the same claims against it.</summary>
public abstract class WalLifecycleTests
{
    /// <summary>Opens a fresh store of the kind under test.</summary>
    protected abstract IWalUnderTest Open(WalOptions? options = null);

    protected static readonly PartitionKey Partition = new("file", 0);

    protected static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    protected static DateTimeOffset Millis(DateTimeOffset time) => DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());

    protected static WalMessage Message(string deviceId, long sequence, DateTimeOffset receivedAt, PartitionKey route) =>
        new($"gw:{deviceId}:{sequence}", sequence, null, receivedAt, MediaTypes.Json, Encoding.UTF8.GetBytes($$"""{"n":{{sequence}}}"""), null,
            $"devices/{deviceId}/telemetry", [route]);

    [Fact]
    public async Task Lease_returns_the_partitions_oldest_records_in_order_and_marks_them_in_flight()
    {
        using var wal = Open();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 3, Partition));
        await wal.Store.AppendAsync(WalFixture.Append("b", 1, 2, Partition));
        await wal.Store.AppendAsync(WalFixture.Append("c", 1, 2, new PartitionKey("file", 1)));

        var first = await wal.Store.LeaseAsync(Partition, 4);
        var second = await wal.Store.LeaseAsync(Partition, 4);

        Assert.Equal(["gw:a:1", "gw:a:2", "gw:a:3", "gw:b:1"], first.Select(r => r.MessageId));
        Assert.Equal(["gw:b:2"], second.Select(r => r.MessageId));
        Assert.Equal(5, wal.Store.GetStatistics().InFlightRecords);
        Assert.Empty(await wal.Store.LeaseAsync(Partition, 4));
    }

    [Fact]
    public async Task Acked_records_leave_the_pending_count()
    {
        using var wal = Open();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 3, Partition));
        Assert.Equal(3, wal.Store.GetStatistics().PendingRecords);

        await wal.Store.AckAsync(await wal.Store.LeaseAsync(Partition, 10));

        Assert.Equal(0, wal.Store.GetStatistics().PendingRecords);
        Assert.Equal(0, wal.Store.GetStatistics().PendingBytes);
        Assert.Equal(3, wal.CountDeliveries("file", DeliveryState.Acked));
    }

    [Fact]
    public async Task Failed_records_return_to_the_head_of_the_queue_until_max_attempts_then_become_dead_with_the_reason()
    {
        using var wal = Open();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 2, Partition));
        var now = DateTimeOffset.UtcNow;
        var failure = new DeliveryFailure("HTTP 503 from cloud", Permanent: false, now, MaxAttempts: 2, DeadIfReceivedBefore: now.AddDays(-1));

        var firstLease = await wal.Store.LeaseAsync(Partition, 10);
        Assert.Equal(0, await wal.Store.FailAsync(firstLease, failure));
        var secondLease = await wal.Store.LeaseAsync(Partition, 10);
        Assert.Equal(firstLease.Select(r => r.MessageId), secondLease.Select(r => r.MessageId));
        Assert.All(secondLease, r => Assert.Equal(1, r.Attempts));
        Assert.Equal(2, await wal.Store.FailAsync(secondLease, failure));

        Assert.Equal(2, wal.CountDeliveries("file", DeliveryState.Dead));
        Assert.Equal(0, wal.Store.GetStatistics().PendingRecords);
        Assert.Equal(2, wal.Scalar(
            "SELECT count(*) FROM wal_delivery WHERE state = 3 AND attempts = 2 AND last_error = 'HTTP 503 from cloud'"));
    }

    [Fact]
    public async Task Permanent_failure_and_maximum_age_dead_letter_at_once()
    {
        using var wal = Open();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 1, Partition));
        await wal.Store.AppendAsync(WalFixture.Append("b", 1, 1, new PartitionKey("file", 1)));
        var now = DateTimeOffset.UtcNow;

        var permanent = new DeliveryFailure("HTTP 400", Permanent: true, now, MaxAttempts: 100, DeadIfReceivedBefore: now.AddDays(-1));
        Assert.Equal(1, await wal.Store.FailAsync(await wal.Store.LeaseAsync(Partition, 10), permanent));

        var tooOld = new DeliveryFailure("timeout", Permanent: false, now, MaxAttempts: 100, DeadIfReceivedBefore: now.AddMinutes(1));
        Assert.Equal(1, await wal.Store.FailAsync(await wal.Store.LeaseAsync(new PartitionKey("file", 1), 10), tooOld));
    }

    [Fact]
    public async Task Recovery_returns_in_flight_records_to_enqueued_in_their_original_order()
    {
        using var wal = Open();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 3, Partition));
        await wal.Store.LeaseAsync(Partition, 2);

        Assert.Equal(2, await wal.Store.RecoverInFlightAsync(Partition));

        var lease = await wal.Store.LeaseAsync(Partition, 10);
        Assert.Equal(["gw:a:1", "gw:a:2", "gw:a:3"], lease.Select(r => r.MessageId));
    }

    [Fact]
    public async Task A_crash_between_lease_and_ack_sends_the_leased_records_again_in_order_and_counts_no_attempt()
    {
        using var wal = Open();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 3, Partition));
        await wal.Store.ClaimAsync(Partition, leaseholder: 1);
        await wal.Store.LeaseAsync(Partition, 2, leaseholder: 1);

        // The process dies with the batch at the sink; the partition's next activation claims it.
        wal.Reopen();
        await wal.Store.ClaimAsync(Partition, leaseholder: 2);

        var lease = await wal.Store.LeaseAsync(Partition, 10, leaseholder: 2);
        Assert.Equal(["gw:a:1", "gw:a:2", "gw:a:3"], lease.Select(r => r.MessageId));
        Assert.All(lease, record => Assert.Equal(0, record.Attempts));
        await wal.Store.AckAsync(lease);
        Assert.Equal(3, wal.CountDeliveries("file", DeliveryState.Acked));
    }

    [Fact]
    public async Task After_a_claim_an_earlier_leaseholder_can_neither_lease_nor_recover_and_the_claimer_gets_its_records_back()
    {
        const long earlier = 11, later = 22;
        using var wal = Open();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 4, Partition));
        Assert.Equal(0, await wal.Store.ClaimAsync(Partition, earlier));
        Assert.Equal(["gw:a:1"], (await wal.Store.LeaseAsync(Partition, 1, earlier)).Select(r => r.MessageId));

        // The partition's grain is activated again elsewhere while the earlier activation still runs.
        Assert.Equal(1, await wal.Store.ClaimAsync(Partition, later));

        Assert.Empty(await wal.Store.LeaseAsync(Partition, 10, earlier));
        var lease = await wal.Store.LeaseAsync(Partition, 2, later);
        Assert.Equal(["gw:a:1", "gw:a:2"], lease.Select(r => r.MessageId));
        Assert.Equal(0, await wal.Store.RecoverInFlightAsync(Partition, earlier));
        Assert.Equal(2, await wal.Store.RecoverInFlightAsync(Partition, later));
        Assert.Equal(["gw:a:1", "gw:a:2", "gw:a:3", "gw:a:4"], (await wal.Store.LeaseAsync(Partition, 10, later)).Select(r => r.MessageId));
    }

    [Fact]
    public async Task Acks_and_failures_of_records_recovered_meanwhile_change_neither_the_wal_nor_its_counts()
    {
        using var wal = Open();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 3, Partition));
        var stale = await wal.Store.LeaseAsync(Partition, 10);
        await wal.Store.RecoverInFlightAsync(Partition);
        var now = DateTimeOffset.UtcNow;

        await wal.Store.AckAsync(stale);
        Assert.Equal(0, await wal.Store.FailAsync(stale, new DeliveryFailure("late", Permanent: true, now, 1, now)));

        var statistics = wal.Store.GetStatistics();
        Assert.Equal(3, statistics.PendingRecords);
        Assert.Equal(3, statistics.EnqueuedRecords);
        Assert.Equal(0, statistics.AckedRecords);
        Assert.Equal(0, statistics.DeadRecords);
        Assert.Equal(3, wal.CountDeliveries("file", DeliveryState.Enqueued));
    }

    [Fact]
    public async Task An_ack_of_a_batch_settles_only_the_records_still_in_flight_and_counts_only_their_bytes()
    {
        using var wal = Open();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 3, Partition));
        var stale = await wal.Store.LeaseAsync(Partition, 10);
        await wal.Store.RecoverInFlightAsync(Partition);
        var again = await wal.Store.LeaseAsync(Partition, 1);
        var bytesBefore = wal.Store.GetStatistics().PendingBytes;

        await wal.Store.AckAsync(stale);

        var statistics = wal.Store.GetStatistics();
        Assert.Equal((2L, 1L), (statistics.EnqueuedRecords, statistics.AckedRecords));
        Assert.Equal(bytesBefore - again[0].Payload.Length, statistics.PendingBytes);
        Assert.Equal(1, wal.CountDeliveries("file", DeliveryState.Acked));
        Assert.Equal(2, wal.CountDeliveries("file", DeliveryState.Enqueued));
    }

    [Fact]
    public async Task Reopen_counts_pending_records_and_partitions_from_the_file()
    {
        using var wal = Open();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 3, Partition));
        await wal.Store.AppendAsync(WalFixture.Append("b", 1, 2, new PartitionKey("file", 7)));
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(new PartitionKey("file", 7), 10));
        await wal.Store.LeaseAsync(Partition, 1);

        wal.Reopen();

        Assert.Equal(3, wal.Store.GetStatistics().PendingRecords);
        Assert.Equal([Partition], await wal.Store.GetPendingPartitionsAsync());
    }

    [Fact]
    public async Task Compaction_deletes_only_acked_records_older_than_the_cutoff()
    {
        using var wal = Open();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 3, Partition));
        await wal.Store.AppendAsync(WalFixture.Append("b", 1, 2, new PartitionKey("file", 1)));
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(Partition, 10));

        Assert.Equal(0, await wal.Store.CompactAsync(DateTimeOffset.UtcNow.AddMinutes(-1), 100));
        Assert.Equal(3, await wal.Store.CompactAsync(DateTimeOffset.UtcNow.AddMinutes(1), 100));

        Assert.Equal(2, wal.Scalar("SELECT count(*) FROM wal_message"));
        Assert.Equal(2, wal.Scalar("SELECT count(*) FROM wal_delivery WHERE state = 0"));
    }

    [Fact]
    public async Task Device_record_counts_every_stored_message_and_survives_compaction_of_its_messages()
    {
        using var wal = Open();
        Assert.Equal(WalDeviceRecord.None, await wal.Store.GetDeviceAsync("a"));
        var first = WalFixture.Append("a", 1, 2, Partition);
        var second = WalFixture.Append("a", 3, 3, Partition);
        await wal.Store.AppendAsync(first);
        await wal.Store.AppendAsync(second);
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(Partition, 10));
        await wal.Store.CompactAsync(DateTimeOffset.UtcNow.AddMinutes(1), 100);

        Assert.Equal(0, wal.Scalar("SELECT count(*) FROM wal_message"));
        var device = await wal.Store.GetDeviceAsync("a");
        Assert.Equal(5, device.LastSequence);
        Assert.Equal(5, device.AcceptedCount);
        Assert.Equal(first.Messages[^1].ReceivedAt.ToUnixTimeMilliseconds(), device.FirstSeen!.Value.ToUnixTimeMilliseconds());
        Assert.Equal(second.Messages[^1].ReceivedAt.ToUnixTimeMilliseconds(), device.LastSeen!.Value.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task A_devices_record_stays_exact_while_part_of_its_messages_is_compacted_and_the_rest_waits()
    {
        using var wal = Open();
        var waiting = new PartitionKey("file", 1);
        await wal.Store.AppendAsync(new WalAppend("a", [Message("a", 1, T0, Partition), Message("a", 2, T0, Partition), Message("a", 3, T0, waiting)]));
        await wal.Store.AppendAsync(new WalAppend("a", [Message("a", 4, T0.AddSeconds(4), Partition), Message("a", 5, T0.AddSeconds(4), waiting)]));
        var expected = new WalDeviceRecord(5, T0, T0.AddSeconds(4), 5);

        await wal.Store.AckAsync(await wal.Store.LeaseAsync(Partition, 10));
        Assert.Equal(3, await wal.Store.CompactAsync(DateTimeOffset.UtcNow.AddMinutes(1), 100));
        Assert.Equal(expected, await wal.Store.GetDeviceAsync("a"));

        await wal.Store.AckAsync(await wal.Store.LeaseAsync(waiting, 10));
        Assert.Equal(2, await wal.Store.CompactAsync(DateTimeOffset.UtcNow.AddMinutes(1), 100));
        wal.Reopen();
        Assert.Equal(expected, await wal.Store.GetDeviceAsync("a"));
        Assert.Equal([new DeviceDirectoryEntry("a", T0, T0.AddSeconds(4))], await wal.Store.ListDevicesAsync(null, null, 10));
    }

    [Fact]
    public async Task Recent_device_message_ids_are_read_back_newest_first()
    {
        using var wal = Open();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 5, Partition, deviceMessageIdPrefix: "m"));

        var recent = await wal.Store.GetRecentDeviceMessagesAsync("a", DateTimeOffset.UtcNow.AddMinutes(-1), 3);

        Assert.Equal(["m5", "m4", "m3"], recent.Select(r => r.DeviceMessageId));
        Assert.Equal("gw:a:5", recent[0].MessageId);
    }

    [Fact]
    public async Task Statistics_count_records_by_state_and_read_the_same_after_a_reopen()
    {
        using var wal = Open();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 4, Partition));
        var leased = await wal.Store.LeaseAsync(Partition, 3);
        await wal.Store.AckAsync([leased[0]]);
        await wal.Store.FailAsync([leased[1]], new DeliveryFailure("rejected", Permanent: true, DateTimeOffset.UtcNow, 10, DateTimeOffset.MinValue));

        AssertCounts(wal.Store.GetStatistics(), enqueued: 1, inFlight: 1, acked: 1, dead: 1);
        Assert.Equal(2, wal.Store.GetStatistics().PendingRecords);

        wal.Reopen();

        // The leased record is pending after the reopen; whether it still reads InFlight until its partition is
        // claimed depends on where the store keeps leases (PostgreSQL: in the row; SQLite: in memory, gone).
        Assert.Equal(2, wal.Store.GetStatistics().PendingRecords);
        await wal.Store.ClaimAsync(Partition, leaseholder: 1);
        AssertCounts(wal.Store.GetStatistics(), enqueued: 2, inFlight: 0, acked: 1, dead: 1);
        Assert.Equal(1, await wal.Store.CompactAsync(DateTimeOffset.UtcNow.AddMinutes(1), 100));
        AssertCounts(wal.Store.GetStatistics(), enqueued: 2, inFlight: 0, acked: 0, dead: 1);

        static void AssertCounts(WalStatistics statistics, long enqueued, long inFlight, long acked, long dead) =>
            Assert.Equal((enqueued, inFlight, acked, dead), (statistics.EnqueuedRecords, statistics.InFlightRecords, statistics.AckedRecords, statistics.DeadRecords));
    }

    [Fact]
    public async Task Only_what_a_caller_was_promised_syncs_egress_bookkeeping_commits_without_a_sync_of_its_own()
    {
        using var wal = Open();
        long Synced() => wal.Store.GetStatistics().SyncedTransactions;
        long Transactions() => wal.Store.GetStatistics().Transactions;
        var now = DateTimeOffset.UtcNow;
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 4, Partition));
        var (synced, transactions) = (Synced(), Transactions());
        Assert.True(synced >= 1, "an append is acknowledged to its device next: its commit must sync");

        // Losing any of these to a power cut only sends records again.
        var leased = await wal.Store.LeaseAsync(Partition, 2);
        await wal.Store.FailAsync(leased, new DeliveryFailure("HTTP 503", Permanent: false, now, MaxAttempts: 10, DeadIfReceivedBefore: now.AddDays(-1)));
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(Partition, 4));
        await wal.Store.LeaseAsync(Partition, 4);
        await wal.Store.RecoverInFlightAsync(Partition);
        await wal.Store.CompactAsync(now.AddDays(1), 100);
        // A lease and a recovery need not write at all (SQLite keeps leases in memory); a failure, an ack and a
        // compaction do.
        Assert.True(Transactions() >= transactions + 3, $"{Transactions() - transactions} commits for six egress steps");
        Assert.Equal(synced, Synced());

        // A promise rests on each of these.
        await wal.Store.AppendAsync(WalFixture.Append("a", 5, 1, Partition));
        Assert.Equal(synced + 1, Synced());
        await wal.Store.ClaimAsync(Partition, leaseholder: 7);
        Assert.Equal(synced + 2, Synced());
        await wal.Store.ProbeWriteAsync();
        Assert.Equal(synced + 3, Synced());

        // Committed, synced or not: a restart (the OS keeps what a killed process wrote) reads every step back,
        // down to the compaction of the four acked records.
        wal.Reopen();
        Assert.Equal(1, wal.Scalar("SELECT count(*) FROM wal_delivery"));
        Assert.Equal(1, wal.CountDeliveries("file", DeliveryState.Enqueued));
    }

    [Fact]
    public async Task A_write_probe_commits_through_the_writer()
    {
        using var wal = Open();
        var before = wal.Store.GetStatistics().Transactions;

        await wal.Store.ProbeWriteAsync();

        Assert.Equal(1, wal.Scalar("SELECT count(*) FROM wal_probe"));
        Assert.True(wal.Store.GetStatistics().Transactions > before);
    }
}

public sealed class SqliteWalLifecycleTests : WalLifecycleTests
{
    protected override IWalUnderTest Open(WalOptions? options = null) => new SqliteWalUnderTest(options);

    [Fact]
    public async Task An_append_writes_no_device_row_and_the_device_record_is_read_from_its_messages()
    {
        using var wal = new WalFixture();
        var first = WalFixture.Append("a", 1, 2, Partition);
        var second = WalFixture.Append("a", 3, 3, Partition);
        await wal.Store.AppendAsync(first);
        await wal.Store.AppendAsync(second);

        Assert.Equal(0, WalDatabase.Scalar(wal.Database.FilePath, "SELECT count(*) FROM wal_device"));
        Assert.Equal(
            new WalDeviceRecord(5, Millis(first.Messages[0].ReceivedAt), Millis(second.Messages[^1].ReceivedAt), 5),
            await wal.Store.GetDeviceAsync("a"));
    }

    [Fact]
    public async Task An_append_commits_only_its_messages_and_their_delivery_rows_follow_in_a_commit_that_does_not_sync()
    {
        using var wal = new WalFixture();
        var cloud = new PartitionKey("cloud", 0);
        await wal.Store.AppendAsync(new WalAppend("a", [WalFixture.Message("a", 1, Partition, cloud), WalFixture.Message("a", 2, Partition, cloud)]));
        var afterAppend = wal.Store.GetStatistics();

        // The synced commit holds the messages and their routes, and no delivery row.
        Assert.Equal(0, WalDatabase.Scalar(wal.Database.FilePath, "SELECT count(*) FROM wal_delivery"));
        Assert.Equal("file/0 cloud/0", WalDatabase.Text(wal.Database.FilePath, "SELECT routes FROM wal_message WHERE device_sequence = 1"));
        // What the store shows does not wait for the rows.
        Assert.Equal(4, afterAppend.EnqueuedRecords);
        Assert.Equal(DeliveryState.Enqueued, (await wal.Store.GetMessageLifecycleAsync("gw:a:1"))!.Deliveries.Single(delivery => delivery.Sink == "cloud").State);

        // The admin read asked for the rows: one commit, not synced.
        var afterRead = wal.Store.GetStatistics();
        Assert.Equal(afterAppend.Transactions + 1, afterRead.Transactions);
        Assert.Equal(afterAppend.SyncedTransactions, afterRead.SyncedTransactions);
        Assert.Equal(4, WalDatabase.Scalar(wal.Database.FilePath, "SELECT count(*) FROM wal_delivery WHERE state = 0"));
        Assert.Equal([1, 2], (await wal.Store.LeaseAsync(cloud, 10)).Select(record => record.Sequence));
    }

    [Fact]
    public async Task The_first_lease_after_an_append_writes_its_rows_and_sees_its_records()
    {
        using var wal = new WalFixture();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 3, Partition));

        var leased = await wal.Store.LeaseAsync(Partition, 10);

        Assert.Equal([1, 2, 3], leased.Select(record => record.Sequence));
        Assert.Equal(3, WalDatabase.Scalar(wal.Database.FilePath, "SELECT count(*) FROM wal_delivery"));
    }

    [Fact]
    public async Task Delivery_rows_a_crash_left_unwritten_are_written_when_the_wal_opens_and_delivered_in_order()
    {
        using var wal = new WalFixture();
        var cloud = new PartitionKey("cloud", 2);
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 2, Partition));
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(Partition, 10));
        await wal.Store.AppendAsync(new WalAppend("a", [WalFixture.Message("a", 3, Partition, cloud), WalFixture.Message("a", 4, Partition)]));
        await wal.Store.AppendAsync(new WalAppend("b", [WalFixture.Message("b", 1, cloud)]));
        Assert.Equal(2, WalDatabase.Scalar(wal.Database.FilePath, "SELECT count(*) FROM wal_delivery"));

        // The files as a power cut would leave them now: every append synced, the newest appends' rows never written.
        using var crashed = new TempDirectory();
        foreach (var file in Directory.GetFiles(wal.Database.DataPath, SqliteDatabase.FileName + "*"))
        {
            File.Copy(file, Path.Combine(crashed.Path, Path.GetFileName(file)));
        }

        var database = new SqliteDatabase(crashed.Path);
        using (var reopened = OpenStore(database))
        {
            Assert.Equal(6, WalDatabase.Scalar(database.FilePath, "SELECT count(*) FROM wal_delivery"));
            Assert.Equal(4, reopened.GetStatistics().EnqueuedRecords);
            Assert.Equal(2, reopened.GetStatistics().AckedRecords);
            Assert.Equal([3, 4], (await reopened.LeaseAsync(Partition, 10)).Select(record => record.Sequence));
            Assert.Equal(["gw:a:3", "gw:b:1"], (await reopened.LeaseAsync(cloud, 10)).Select(record => record.MessageId));
        }

        // A second start finds nothing left to write.
        using (OpenStore(database))
        {
            Assert.Equal(6, WalDatabase.Scalar(database.FilePath, "SELECT count(*) FROM wal_delivery"));
        }
    }

    [Fact]
    public async Task Past_the_limit_of_unwritten_rows_even_a_synced_commit_writes_them()
    {
        using var wal = new WalFixture();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, UnwrittenDeliveries.MaxUnwritten, Partition));
        Assert.Equal(0, WalDatabase.Scalar(wal.Database.FilePath, "SELECT count(*) FROM wal_delivery"));

        await wal.Store.AppendAsync(WalFixture.Append("b", 1, 1, Partition));

        Assert.Equal(UnwrittenDeliveries.MaxUnwritten, WalDatabase.Scalar(wal.Database.FilePath, "SELECT count(*) FROM wal_delivery"));
    }

    private static SqliteWalStore OpenStore(SqliteDatabase database) =>
        WalFixture.OpenStore(database, new WalOptions(), new WalFixture.RecordingListener(), WalFixture.NewMetrics());

    [Fact]
    public async Task Deleting_a_devices_messages_folds_them_into_its_row_once_and_exactly()
    {
        using var wal = new WalFixture();
        var kept = new PartitionKey("file", 1);
        var first = new WalAppend("a", [Message("a", 1, T0, Partition), Message("a", 2, T0.AddSeconds(1), Partition), Message("a", 3, T0.AddSeconds(2), kept)]);
        var second = new WalAppend("a", [Message("a", 4, T0.AddSeconds(3), Partition), Message("a", 5, T0.AddSeconds(4), kept)]);
        await wal.Store.AppendAsync(first);
        await wal.Store.AppendAsync(second);

        // Sequences 1, 2 and 4 are delivered and compacted; 3 and 5 still wait on another partition.
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(Partition, 10));
        Assert.Equal(3, await wal.Store.CompactAsync(DateTimeOffset.UtcNow.AddMinutes(1), 100));

        // The row took in everything up to 4, the pending 3 with it; 5 is still read from its message.
        Assert.Equal(4, WalDatabase.Scalar(wal.Database.FilePath, "SELECT last_sequence FROM wal_device WHERE device_id = 'a'"));
        Assert.Equal(4, WalDatabase.Scalar(wal.Database.FilePath, "SELECT accepted_count FROM wal_device WHERE device_id = 'a'"));
        var expected = new WalDeviceRecord(5, T0, T0.AddSeconds(4), 5);
        Assert.Equal(expected, await wal.Store.GetDeviceAsync("a"));

        // Deleting 3 (already in the row) and 5 later counts neither twice; a restart reads the same.
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(kept, 10));
        Assert.Equal(2, await wal.Store.CompactAsync(DateTimeOffset.UtcNow.AddMinutes(1), 100));
        wal.Reopen();
        Assert.Equal(0, WalDatabase.Scalar(wal.Database.FilePath, "SELECT count(*) FROM wal_message"));
        Assert.Equal(expected, await wal.Store.GetDeviceAsync("a"));
        Assert.Equal([new DeviceDirectoryEntry("a", T0, T0.AddSeconds(4))], await wal.Store.ListDevicesAsync(null, null, 10));
    }

    [Fact]
    public async Task Purging_dead_letters_folds_their_devices_rows_before_the_messages_go()
    {
        using var wal = new WalFixture();
        await wal.Store.AppendAsync(new WalAppend("a", [Message("a", 1, T0, Partition), Message("a", 2, T0.AddSeconds(1), Partition)]));
        var now = DateTimeOffset.UtcNow;
        await wal.Store.FailAsync(await wal.Store.LeaseAsync(Partition, 10), new DeliveryFailure("refused", Permanent: true, now, 10, DateTimeOffset.MinValue));

        Assert.Equal(2, await wal.Store.PurgeDeadAsync(new DeadLetterFilter()));

        Assert.Equal(0, WalDatabase.Scalar(wal.Database.FilePath, "SELECT count(*) FROM wal_message"));
        Assert.Equal(new WalDeviceRecord(2, T0, T0.AddSeconds(1), 2), await wal.Store.GetDeviceAsync("a"));
    }


    [Fact]
    public async Task The_pending_bytes_summed_after_a_restart_add_up_with_what_changed_while_they_were_summed()
    {
        using var wal = new WalFixture();
        var partition = new PartitionKey("file", 0);
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 4, partition));
        var before = wal.Store.GetStatistics().PendingBytes;
        Assert.True(before > 0);

        wal.Reopen();
        // Racing the start-up sum: a record from before the restart is delivered, a new one arrives.
        var delivered = await wal.Store.LeaseAsync(partition, 1);
        await wal.Store.AckAsync(delivered);
        var arriving = WalFixture.Append("b", 1, 1, partition);
        await wal.Store.AppendAsync(arriving);
        await wal.Store.PendingBytesCounted;
        await wal.Store.WriteDeliveryRowsAsync();

        var expected = before - delivered.Sum(record => record.Payload.Length) + arriving.Messages.Sum(message => message.Payload.Length);
        Assert.Equal(expected, wal.Store.GetStatistics().PendingBytes);
        Assert.Equal(expected, WalDatabase.Scalar(wal.Database.FilePath,
            "SELECT sum(length(m.payload)) FROM wal_delivery d JOIN wal_message m ON m.seq = d.message_seq WHERE d.state IN (0, 1)"));
    }

    [Fact]
    public async Task A_small_commit_of_callers_with_their_own_scheduler_is_settled_by_the_writer_and_no_other_caller_continues_there()
    {
        using var wal = new WalFixture();
        var grainLike = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;

        var fromScheduler = await SettlingThreadAsync(wal, submit => Task.Factory.StartNew(submit, CancellationToken.None, TaskCreationOptions.None, grainLike));
        var fromPlainCaller = await SettlingThreadAsync(wal, submit => Task.Factory.StartNew(submit, CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default));

        // A grain's continuation is only queued to its own scheduler, so the writer settles without a thread hand-off;
        // a caller without one would run its continuation on the writer thread, so its commit goes to the thread pool.
        Assert.Equal("wal-writer", fromScheduler);
        Assert.NotEqual("wal-writer", fromPlainCaller);
    }

    /// <summary>
    /// The thread that settles one probe, submitted through <paramref name="start"/>: a synchronous continuation runs on
    /// it. Another connection holds the write lock until the continuation is in place, so the commit cannot finish first.
    /// </summary>
    private static async Task<string?> SettlingThreadAsync(WalFixture wal, Func<Func<Task<string?>>, Task<Task<string?>>> start)
    {
        using var blocker = new Microsoft.Data.Sqlite.SqliteConnection(wal.Database.ConnectionString);
        blocker.Open();
        using (var begin = blocker.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            begin.ExecuteNonQuery();
        }

        var settling = await start(() => wal.Store.ProbeWriteAsync().ContinueWith(
            _ => Thread.CurrentThread.Name, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
        Assert.False(settling.IsCompleted, "the probe committed while another connection held the write lock");
        using (var rollback = blocker.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }

        return await settling;
    }

    [Fact]
    public async Task A_messages_deliveries_are_numbered_by_its_seq_and_route_so_an_append_writes_no_index_to_find_them()
    {
        using var wal = new SqliteWalUnderTest();
        await wal.Store.AppendAsync(new WalAppend("a", [WalFixture.Message("a", 1, Partition, new PartitionKey("cloud", 0))]));
        await wal.Store.AppendAsync(new WalAppend("b", [WalFixture.Message("b", 1, new PartitionKey("cloud", 0))]));

        var first = wal.Scalar("SELECT seq FROM wal_message WHERE device_id = 'a'");
        var second = wal.Scalar("SELECT seq FROM wal_message WHERE device_id = 'b'");
        Assert.Equal(first * 256, wal.Scalar("SELECT id FROM wal_delivery WHERE sink = 'file'"));
        Assert.Equal(first * 256 + 1, wal.Scalar($"SELECT id FROM wal_delivery WHERE sink = 'cloud' AND message_seq = {first}"));
        Assert.Equal(second * 256, wal.Scalar($"SELECT id FROM wal_delivery WHERE message_seq = {second}"));
        Assert.Equal(0, wal.Scalar("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_wal_delivery_message'"));
        var lifecycle = await wal.Store.GetMessageLifecycleAsync("gw:a:1");
        Assert.Equal(["file", "cloud"], lifecycle!.Deliveries.Select(d => d.Sink));
    }

    [Fact]
    public async Task Deliveries_numbered_by_an_earlier_version_are_renumbered_with_their_history_and_keep_their_order()
    {
        using var directory = new TempDirectory();
        var database = new SqliteDatabase(directory.Path);
        SqliteSchemaMigrator.Apply(database, typeof(SqliteWalStore).Assembly, "wal");
        // The layout of version 7: ids from the table's own counter, found by message through an index.
        using (var connection = database.Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                INSERT INTO wal_message (seq, message_id, device_id, device_sequence, received_at, content_type, payload, topic) VALUES
                    (1, 'gw:a:1', 'a', 1, 0, 'application/json', x'7b7d', 't'), (2, 'gw:a:2', 'a', 2, 0, 'application/json', x'7b7d', 't');
                INSERT INTO wal_delivery (id, message_seq, sink, partition, state, attempts, updated_at) VALUES
                    (1, 1, 'file', 0, 2, 0, 0), (2, 1, 'cloud', 0, 3, 1, 0), (3, 2, 'file', 0, 0, 0, 0), (4, 2, 'cloud', 0, 0, 1, 0);
                INSERT INTO wal_delivery_event (delivery_id, at, from_state, to_state, attempts, error) VALUES (2, 5, 1, 3, 1, 'HTTP 400'), (4, 6, 1, 0, 1, 'HTTP 503');
                CREATE INDEX ix_wal_delivery_message ON wal_delivery (message_seq);
                ALTER TABLE wal_message DROP COLUMN routes;
                DROP INDEX ix_wal_delivery_enqueued;
                CREATE INDEX ix_wal_delivery_enqueued ON wal_delivery (sink, partition, id) WHERE state = 0;
                ALTER TABLE wal_message DROP COLUMN lane;
                ALTER TABLE wal_delivery DROP COLUMN lane;
                ALTER TABLE wal_delivery DROP COLUMN replayed_at;
                DROP TABLE wal_device_message;
                DROP TABLE wal_device_index;
                CREATE INDEX ix_wal_message_device ON wal_message (device_id, device_sequence);
                UPDATE gateway_schema SET version = 7 WHERE component = 'wal';
                """;
            command.ExecuteNonQuery();
        }

        Assert.Equal(4, SqliteSchemaMigrator.Apply(database, typeof(SqliteWalStore).Assembly, "wal"));

        Assert.Equal("256 file, 257 cloud, 512 file, 513 cloud", WalDatabase.Text(database.FilePath,
            "SELECT group_concat(id || ' ' || sink, ', ') FROM (SELECT id, sink FROM wal_delivery ORDER BY id)"));
        Assert.Equal("257 HTTP 400, 513 HTTP 503", WalDatabase.Text(database.FilePath,
            "SELECT group_concat(delivery_id || ' ' || error, ', ') FROM (SELECT delivery_id, error FROM wal_delivery_event ORDER BY id)"));
        Assert.Equal(0, WalDatabase.Scalar(database.FilePath, "SELECT count(*) FROM sqlite_master WHERE name = 'ix_wal_delivery_message'"));
        // 0011: the stored messages are in the device index table, the index on wal_message is gone.
        Assert.Equal("a 1 1, a 2 2", WalDatabase.Text(database.FilePath,
            "SELECT group_concat(device_id || ' ' || device_sequence || ' ' || seq, ', ') FROM (SELECT * FROM wal_device_message ORDER BY seq)"));
        Assert.Equal(2, WalDatabase.Scalar(database.FilePath, "SELECT indexed_through FROM wal_device_index"));
        Assert.Equal(0, WalDatabase.Scalar(database.FilePath, "SELECT count(*) FROM sqlite_master WHERE name = 'ix_wal_message_device'"));
    }

    [Fact]
    public void Schema_scripts_apply_once_and_a_second_start_changes_nothing()
    {
        using var directory = new TempDirectory();
        var database = new SqliteDatabase(directory.Path);

        // 0001-wal, 0002-probe, 0003-device-activity, 0004-history, 0005-partition-leaseholder, 0006-lean-history,
        // 0007-lease-without-write, 0008-delivery-ids-by-message, 0009-delivery-rows-later, 0010-lanes, 0011-device-index-later.
        Assert.Equal(11, SqliteSchemaMigrator.Apply(database, typeof(SqliteWalStore).Assembly, "wal"));
        Assert.Equal(0, SqliteSchemaMigrator.Apply(database, typeof(SqliteWalStore).Assembly, "wal"));
        Assert.Equal(11, WalDatabase.Scalar(database.FilePath, "SELECT version FROM gateway_schema WHERE component = 'wal'"));
        Assert.Equal("wal", WalDatabase.Text(database.FilePath, "PRAGMA journal_mode"));
    }
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlWalLifecycleTests(PostgreSqlServer server) : WalLifecycleTests
{
    protected override IWalUnderTest Open(WalOptions? options = null) => PostgreSqlWalUnderTest.CreateAsync(server, options).GetAwaiter().GetResult();

    [RequiresPostgreSqlFact]
    public async Task Schema_scripts_apply_once_even_when_nodes_start_together()
    {
        using var database = new PostgreSqlDatabase(await server.CreateDatabaseAsync("schema"));

        var applied = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            Task.Run(() => PostgreSqlSchemaMigrator.ApplyAsync(database, typeof(PostgreSqlWalStore).Assembly, PostgreSqlWalStore.SchemaComponent))));

        // 0001-wal, 0002-device-activity, 0003-history, 0004-partition-leaseholder, 0005-lanes: all applied by one node,
        // none by the others.
        Assert.Equal(5, applied.Sum());
        Assert.Equal(5, applied.Max());
        Assert.Equal(5, PostgreSqlWalUnderTest.Scalar(database.ConnectionString, "SELECT version FROM gateway_schema WHERE component = 'wal'"));
    }
}
