using Gateway.DeadLetters;
using Gateway.Partitions;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;
using Microsoft.Data.Sqlite;

namespace Gateway.Tests.Wal;

/// <summary>What every WAL store must do; one derived class per store runs the same claims against it.</summary>
public abstract class GroupCommitTests
{
    /// <summary>Opens a fresh store of the kind under test.</summary>
    protected abstract IWalUnderTest Open(WalOptions? options = null);

    [Fact]
    public async Task Concurrent_appends_share_few_transactions_and_each_completes_only_after_its_commit()
    {
        using var wal = Open();
        const int devices = 100;
        const int appendsPerDevice = 20;
        var visibleAtCompletion = 0;

        // Each caller checks, the moment its task completes, that a separate connection already sees its
        // row: completion after commit, not before.
        async Task AppendAndCheck(string deviceId, int sequence, Task append)
        {
            await append;
            if (wal.Scalar($"SELECT count(*) FROM wal_message WHERE device_id = '{deviceId}' AND device_sequence = {sequence}") == 1)
            {
                Interlocked.Increment(ref visibleAtCompletion);
            }
        }

        // 2,000 appends submitted as one burst, none awaited before the next is queued, as 100 devices publishing at
        // once would. Queued in device order, so each device's sequence arrives in order. Awaiting each append
        // before the next would make sharing depend on how many thread-pool threads a loaded machine runs at once.
        var checks = new List<Task>(devices * appendsPerDevice);
        for (var i = 1; i <= appendsPerDevice; i++)
        {
            for (var device = 0; device < devices; device++)
            {
                var deviceId = $"device-{device}";
                checks.Add(AppendAndCheck(deviceId, i, wal.Store.AppendAsync(WalFixture.Append(deviceId, i, 1, new PartitionKey("file", device % 4)))));
            }
        }

        await Task.WhenAll(checks);

        var statistics = wal.Store.GetStatistics();
        Assert.Equal(devices * appendsPerDevice, visibleAtCompletion);
        Assert.Equal(devices * appendsPerDevice, statistics.AppendedMessages);
        Assert.Equal(devices * appendsPerDevice, statistics.Operations);
        // The writer commits whatever is queued when it finishes a commit: far fewer commits than appends.
        Assert.True(statistics.Transactions < devices * appendsPerDevice / 4,
            $"{statistics.Transactions} transactions for {statistics.Operations} appends: appends are not sharing commits.");
    }

    [Fact]
    public async Task A_replay_wakes_the_partitions_its_records_went_back_to_once_committed()
    {
        using var wal = Open();
        var partition = new PartitionKey("file", 3);
        await wal.Store.AppendAsync(WalFixture.Append("d", 1, 2, partition));
        var now = DateTimeOffset.UtcNow;
        await wal.Store.FailAsync(await wal.Store.LeaseAsync(partition, 10), new DeliveryFailure("refused", Permanent: true, now, 10, DateTimeOffset.MinValue));
        await Eventually.TrueAsync(() => wal.Listener.Woken.Contains(partition), "the append's wake-up");
        var wokenBefore = wal.Listener.Woken.Count(woken => woken == partition);

        Assert.Equal(2, (await wal.Store.ReplayDeadAsync(new DeadLetterFilter())).Count);

        await Eventually.TrueAsync(() => wal.Listener.Woken.Count(woken => woken == partition) > wokenBefore, "partition file/3 woken by the replay");
    }

    [Fact]
    public async Task One_batch_per_transaction_when_group_commit_is_off()
    {
        using var wal = Open(new WalOptions { MaxBatchOperations = 1 });

        await Task.WhenAll(Enumerable.Range(0, 50).Select(device =>
            wal.Store.AppendAsync(WalFixture.Append($"d{device}", 1, 1, new PartitionKey("file", 0)))));

        Assert.Equal(50, wal.Store.GetStatistics().Transactions);
    }

    [Fact]
    public async Task Commit_wakes_each_partition_that_received_records()
    {
        using var wal = Open();

        await wal.Store.AppendAsync(WalFixture.Append("a", 1, 3, new PartitionKey("file", 2)));
        await wal.Store.AppendAsync(WalFixture.Append("b", 1, 1, new PartitionKey("file", 5)));

        await Eventually.TrueAsync(() => wal.Listener.Woken.Contains(new PartitionKey("file", 5)), "partition file/5 woken");
        Assert.Contains(new PartitionKey("file", 2), wal.Listener.Woken);
    }
}

public sealed class SqliteGroupCommitTests : GroupCommitTests
{
    protected override IWalUnderTest Open(WalOptions? options = null) => new SqliteWalUnderTest(options);

    [Fact]
    public async Task An_operation_that_fails_alone_undoes_none_of_the_others_in_its_commit()
    {
        using var wal = new WalFixture();
        var partition = new PartitionKey("file", 0);

        using var blocker = new SqliteConnection(wal.Database.ConnectionString);
        blocker.Open();
        using (var trigger = blocker.CreateCommand())
        {
            // The database refuses this one device's messages: its append fails inside the shared transaction.
            trigger.CommandText = "CREATE TRIGGER refuse_bad BEFORE INSERT ON wal_message WHEN NEW.device_id = 'bad' BEGIN SELECT RAISE(ABORT, 'refused'); END";
            trigger.ExecuteNonQuery();
        }

        // Hold the write lock so that the appends below queue up and share one commit.
        using var hold = blocker.BeginTransaction(deferred: false);
        var good = Enumerable.Range(0, 20).Select(device => wal.Store.AppendAsync(WalFixture.Append($"d{device}", 1, 1, partition))).ToList();
        var bad = wal.Store.AppendAsync(WalFixture.Append("bad", 1, 1, partition));
        good.AddRange(Enumerable.Range(20, 20).Select(device => wal.Store.AppendAsync(WalFixture.Append($"d{device}", 1, 1, partition))));
        hold.Rollback();

        await Assert.ThrowsAsync<SqliteException>(() => bad);
        await Task.WhenAll(good);
        Assert.Equal(40, WalDatabase.Scalar(wal.Database.FilePath, "SELECT count(*) FROM wal_message"));
        Assert.Equal(0, WalDatabase.Scalar(wal.Database.FilePath, "SELECT count(*) FROM wal_message WHERE device_id = 'bad'"));
        Assert.Equal(0, WalDatabase.Scalar(wal.Database.FilePath, "SELECT count(*) FROM wal_device WHERE device_id = 'bad'"));
        Assert.True(wal.Store.GetStatistics().Transactions <= 2, "the appends did not share a commit, so the test proves nothing");
    }
}

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlGroupCommitTests(PostgreSqlServer server) : GroupCommitTests
{
    protected override IWalUnderTest Open(WalOptions? options = null) => PostgreSqlWalUnderTest.CreateAsync(server, options).GetAwaiter().GetResult();
}
