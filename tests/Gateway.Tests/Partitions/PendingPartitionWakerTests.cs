using System.Collections.Concurrent;
using Gateway.Partitions;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Partitions;

public sealed class PendingPartitionWakerTests
{
    private static readonly PartitionKey Failing = new("cloud", 1);
    private static readonly PartitionKey Hanging = new("cloud", 2);
    private static readonly PartitionKey Healthy = new("cloud", 3);

    private readonly FakeTimeProvider _time = new();
    private readonly ConcurrentDictionary<PartitionKey, int> _calls = new();

    [Fact]
    public async Task A_failed_or_hung_wake_up_neither_stops_the_others_nor_is_given_up_on_the_first_try()
    {
        var notWoken = await RunOnFakeTimeAsync(PendingPartitionWaker.WakeWithRetriesAsync([Failing, Hanging, Healthy], partition =>
        {
            var call = _calls.AddOrUpdate(partition, 1, (_, calls) => calls + 1);
            return (partition, call) switch
            {
                ({ Partition: 1 }, 1) => Task.FromException(new TimeoutException("directory still points at the dead silo")),
                ({ Partition: 2 }, 1) => new TaskCompletionSource().Task,
                _ => Task.CompletedTask,
            };
        }, _time, NullLogger.Instance, CancellationToken.None));

        Assert.Empty(notWoken);
        Assert.Equal(2, _calls[Failing]);
        Assert.Equal(2, _calls[Hanging]);
        Assert.Equal(1, _calls[Healthy]);
    }

    [Fact]
    public async Task A_partition_that_never_wakes_is_left_to_its_reminder_after_the_last_round()
    {
        var notWoken = await RunOnFakeTimeAsync(PendingPartitionWaker.WakeWithRetriesAsync([Failing, Healthy], partition =>
        {
            _calls.AddOrUpdate(partition, 1, (_, calls) => calls + 1);
            return partition == Failing ? Task.FromException(new InvalidOperationException("down")) : Task.CompletedTask;
        }, _time, NullLogger.Instance, CancellationToken.None));

        Assert.Equal([Failing], notWoken);
        Assert.Equal(PendingPartitionWaker.MaxRounds, _calls[Failing]);
        Assert.Equal(1, _calls[Healthy]);
    }

    /// <summary>Moves the fake clock a second at a time until the wake-up rounds finish.</summary>
    /// <remarks>
    /// The rounds arm their timers on thread-pool continuations, so a step may land before the next timer is armed
    /// and be spent for nothing. The steps are therefore not counted against a fixed budget, which a loaded machine
    /// could exhaust; they go on until the rounds finish, with a deadline in real time as the only bound.
    /// </remarks>
    private async Task<T> RunOnFakeTimeAsync<T>(Task<T> running)
    {
        var deadline = DateTime.UtcNow + Eventually.DefaultTimeout;
        while (!running.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the wake-up rounds did not finish within {Eventually.DefaultTimeout.TotalSeconds}s");
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(running, Task.Delay(10));
        }

        return await running;
    }
}
