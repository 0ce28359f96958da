using Gateway.Partitions;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;
using Gateway.Wal.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Wal;

/// <summary>
/// The SQLite WAL's device index is written after the append, in batches (<see cref="UnindexedMessages"/>): every read by
/// device answers the same before and after its batch, after a crash, and after compaction hands a rowid out again.
/// </summary>
public sealed class DeviceIndexTests
{
    private static readonly PartitionKey Partition = new("file", 0);

    [Fact]
    public async Task An_append_writes_no_index_entry_and_a_later_commit_that_does_not_sync_indexes_the_tail_once_it_is_old_enough()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var wal = new WalFixture(time: time);
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 3, Partition, "m-"));
        await wal.Store.AppendAsync(WalFixture.Append("b", 1, 2, Partition, "m-"));

        Assert.Equal(0, Entries(wal));
        await AssertReadsByDevice(wal.Store, pendingOfA: 3);

        // A commit that does not sync, before the tail is old enough, leaves it; so does a synced one after.
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(Partition, 1));
        time.Advance(UnindexedMessages.MaxAge);
        await wal.Store.AppendAsync(WalFixture.Append("c", 1, 1, new PartitionKey("file", 1)));
        Assert.Equal(0, Entries(wal));

        await wal.Store.AckAsync(await wal.Store.LeaseAsync(Partition, 1));

        Assert.Equal(6, Entries(wal));
        Assert.Equal(WalDatabase.Scalar(wal.Database.FilePath, "SELECT max(seq) FROM wal_message"), Mark(wal));
        await AssertReadsByDevice(wal.Store, pendingOfA: 1);
    }

    [Fact]
    public async Task Past_the_limit_of_unindexed_messages_the_next_commit_that_does_not_sync_indexes_them_before_they_are_old()
    {
        using var wal = new WalFixture();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, UnindexedMessages.MaxMessages, Partition));
        await wal.Store.AppendAsync(WalFixture.Append("b", 1, 1, Partition));
        Assert.Equal(0, Entries(wal));

        await wal.Store.AckAsync(await wal.Store.LeaseAsync(Partition, 1));

        Assert.Equal(UnindexedMessages.MaxMessages + 1, Entries(wal));
    }

    [Fact]
    public async Task Past_the_forced_limit_even_a_synced_commit_indexes_them()
    {
        using var wal = new WalFixture();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, UnindexedMessages.ForcedMessages, Partition));
        Assert.Equal(0, Entries(wal));

        await wal.Store.AppendAsync(WalFixture.Append("b", 1, 1, Partition));

        Assert.Equal(UnindexedMessages.ForcedMessages, Entries(wal));
        Assert.Equal(1, (await wal.Store.GetDeviceAsync("b")).LastSequence);
    }

    [Fact]
    public async Task A_tail_a_crash_left_unindexed_is_indexed_when_the_wal_opens()
    {
        using var wal = new WalFixture();
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 3, Partition, "m-"));
        await wal.Store.AppendAsync(WalFixture.Append("b", 1, 2, Partition, "m-"));

        // The files as a power cut would leave them now: every append synced, no index entry written.
        using var crashed = new TempDirectory();
        foreach (var file in Directory.GetFiles(wal.Database.DataPath, SqliteDatabase.FileName + "*"))
        {
            File.Copy(file, Path.Combine(crashed.Path, Path.GetFileName(file)));
        }

        var database = new SqliteDatabase(crashed.Path);
        using var reopened = WalFixture.OpenStore(database, new WalOptions(), new WalFixture.RecordingListener(), WalFixture.NewMetrics());

        Assert.Equal(5, WalDatabase.Scalar(database.FilePath, "SELECT count(*) FROM wal_device_message"));
        Assert.Equal(WalDatabase.Scalar(database.FilePath, "SELECT max(seq) FROM wal_message"),
            WalDatabase.Scalar(database.FilePath, "SELECT indexed_through FROM wal_device_index"));
        await AssertReadsByDevice(reopened, pendingOfA: 3);
    }

    [Fact]
    public async Task When_compaction_deletes_the_newest_messages_the_mark_comes_down_so_a_message_given_their_rowid_is_found()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var wal = new WalFixture(time: time);
        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 2, Partition));
        time.Advance(UnindexedMessages.MaxAge);
        await wal.Store.AckAsync(await wal.Store.LeaseAsync(Partition, 10));
        Assert.Equal(2, Entries(wal));

        Assert.Equal(2, await wal.Store.CompactAsync(time.GetUtcNow().AddMinutes(1), 100));
        Assert.Equal(0, Entries(wal));
        await wal.Store.AppendAsync(WalFixture.Append("a", 3, 1, Partition));

        // SQLite hands out rowid 1 again; the mark came down to 0 with the deletes, so the message is in the tail.
        Assert.Equal(1, WalDatabase.Scalar(wal.Database.FilePath, "SELECT seq FROM wal_message"));
        Assert.Equal(3, (await wal.Store.GetDeviceAsync("a")).LastSequence);
        Assert.NotNull(await wal.Store.GetMessageLifecycleAsync("gw:a:3"));
        Assert.Equal(1, (await wal.Store.GetDeviceDeliveryCountsAsync("a")).Buffered);
    }

    private static async Task AssertReadsByDevice(SqliteWalStore store, long pendingOfA)
    {
        var a = await store.GetDeviceAsync("a");
        Assert.Equal((3, 3), (a.LastSequence, a.AcceptedCount));
        Assert.Equal(2, (await store.GetDeviceAsync("b")).LastSequence);
        Assert.Equal(["m-3", "m-2", "m-1"], (await store.GetRecentDeviceMessagesAsync("a", DateTimeOffset.UtcNow.AddHours(-1), 10)).Select(m => m.DeviceMessageId));
        Assert.Equal(["m-3"], (await store.GetRecentDeviceMessagesAsync("a", DateTimeOffset.UtcNow.AddHours(-1), 1)).Select(m => m.DeviceMessageId));
        Assert.Equal("gw:a:2", (await store.GetMessageLifecycleAsync("gw:a:2"))?.MessageId);
        Assert.Null(await store.GetMessageLifecycleAsync("gw:a:4"));
        Assert.Equal(pendingOfA, (await store.GetDeviceDeliveryCountsAsync("a")).Buffered);
        Assert.Equal(["a", "b"], (await store.ListDevicesAsync(null, null, 10)).Select(d => d.DeviceId).Where(id => id is "a" or "b"));
        Assert.Equal(["b"], (await store.ListDevicesAsync("a", null, 10)).Select(d => d.DeviceId).Where(id => id is "a" or "b"));
    }

    private static long Entries(WalFixture wal) => WalDatabase.Scalar(wal.Database.FilePath, "SELECT count(*) FROM wal_device_message");

    private static long Mark(WalFixture wal) => WalDatabase.Scalar(wal.Database.FilePath, "SELECT indexed_through FROM wal_device_index");
}
