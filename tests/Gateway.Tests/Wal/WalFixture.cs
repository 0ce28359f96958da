using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Gateway.Partitions;
using Gateway.Storage;
using Gateway.Telemetry;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;
using Gateway.Wal.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Wal;

/// <summary>A real SQLite WAL store in a temp folder, and helpers to append test messages to it.</summary>
public sealed class WalFixture : IDisposable
{
    private readonly TempDirectory _directory = new();

    private readonly TimeProvider _time;

    public WalFixture(WalOptions? options = null, TimeProvider? time = null)
    {
        Database = new SqliteDatabase(_directory.Path);
        Options = options ?? new WalOptions();
        _time = time ?? TimeProvider.System;
        Store = OpenStore();
    }

    public SqliteDatabase Database { get; }

    public WalOptions Options { get; }

    public SqliteWalStore Store { get; private set; }

    public RecordingListener Listener { get; } = new();

    /// <summary>Closes the store and opens a new one on the same file, as a restart would.</summary>
    public void Reopen()
    {
        Store.Dispose();
        Store = OpenStore();
    }

    public static WalAppend Append(string deviceId, long firstSequence, int count, PartitionKey route, string? deviceMessageIdPrefix = null)
    {
        // One receive time for the batch, as a device grain gives it.
        var receivedAt = DateTimeOffset.UtcNow;
        var messages = new List<WalMessage>(count);
        for (var i = 0; i < count; i++)
        {
            var sequence = firstSequence + i;
            messages.Add(Message(deviceId, sequence, deviceMessageIdPrefix is null ? null : deviceMessageIdPrefix + sequence, receivedAt, route));
        }

        return new WalAppend(deviceId, messages);
    }

    /// <summary>A device's batch through <paramref name="route"/>, stored in the lane of priority <paramref name="lane"/>.</summary>
    public static WalAppend Append(string deviceId, long firstSequence, int count, PartitionKey route, int lane, DateTimeOffset? receivedAt = null)
    {
        var received = receivedAt ?? DateTimeOffset.UtcNow;
        return new WalAppend(deviceId, Enumerable.Range(0, count)
            .Select(i => Message(deviceId, firstSequence + i, null, received, route) with { Lane = lane })
            .ToList());
    }

    /// <summary>A device's message <c>gw:{device}:{sequence}</c> through <paramref name="routes"/>.</summary>
    public static WalMessage Message(string deviceId, long sequence, params PartitionKey[] routes) => Message(deviceId, sequence, null, DateTimeOffset.UtcNow, routes);

    private static WalMessage Message(string deviceId, long sequence, string? deviceMessageId, DateTimeOffset receivedAt, params PartitionKey[] routes) => new(
        $"gw:{deviceId}:{sequence}", sequence, deviceMessageId, receivedAt, MediaTypes.Json,
        Encoding.UTF8.GetBytes($$"""{"n":{{sequence}}}"""), null, $"devices/{deviceId}/telemetry", routes);

    public void Dispose()
    {
        Store.Dispose();
        _directory.Dispose();
    }

    /// <summary>The WAL's instruments, on a meter factory of their own.</summary>
    public GatewayMetrics Metrics { get; } = NewMetrics();

    /// <summary>A WAL's instruments on a meter factory of their own, so tests never see each other's counts.</summary>
    public static GatewayMetrics NewMetrics() => new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());

    private SqliteWalStore OpenStore() => OpenStore(Database, Options, Listener, Metrics, _time);

    /// <summary>Opens a store on <paramref name="database"/> (one the fixture did not create: a copy, an old layout).</summary>
    public static SqliteWalStore OpenStore(SqliteDatabase database, WalOptions options, IWalCommitListener listener, GatewayMetrics metrics, TimeProvider? time = null)
    {
        var store = new SqliteWalStore(database, Microsoft.Extensions.Options.Options.Create(options), time ?? TimeProvider.System, listener, metrics, NullLogger<SqliteWalStore>.Instance);
        store.Open();
        return store;
    }

    /// <summary>Remembers which partitions the writer woke after each commit.</summary>
    public sealed class RecordingListener : IWalCommitListener
    {
        public ConcurrentQueue<PartitionKey> Woken { get; } = new();

        public void OnPartitionsWoken(IReadOnlyCollection<PartitionKey> partitions)
        {
            foreach (var partition in partitions)
            {
                Woken.Enqueue(partition);
            }
        }
    }
}
