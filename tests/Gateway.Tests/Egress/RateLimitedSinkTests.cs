using Gateway.Sinks;
using Gateway.Wal;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Egress;

/// <summary>
/// The limits on a fake clock: a send that must wait is still waiting one tick before its tokens have refilled, and
/// goes the moment they have, so the pacing is checked exactly and no test sleeps.
/// </summary>
public sealed class RateLimitedSinkTests
{
    private static readonly TimeSpan OneTick = TimeSpan.FromTicks(1);

    // How long a released send may take to finish on a busy machine (its continuation runs on the thread pool). The
    // waits under test are on the fake clock, so this is never what a test waits for.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UnixEpoch);

    private sealed class CountingSink : ISink
    {
        public int Delivered;

        public string Name => "counting";

        public Task<DeliveryResult> DeliverAsync(IReadOnlyList<WalRecord> batch, CancellationToken cancellationToken)
        {
            Interlocked.Add(ref Delivered, batch.Count);
            return Task.FromResult(DeliveryResult.Delivered);
        }
    }

    private static List<WalRecord> Batch(int count, int payloadBytes = 10) => Enumerable.Range(0, count).Select(i => new WalRecord
    {
        DeliveryId = i, MessageId = $"m{i}", DeviceId = "d", Sequence = i, ReceivedAt = DateTimeOffset.UnixEpoch,
        ContentType = MediaTypes.Json, Payload = new byte[payloadBytes], Topic = "devices/d/telemetry",
    }).ToList();

    /// <summary>Asserts that <paramref name="send"/> is held for exactly <paramref name="wait"/> of the fake clock.</summary>
    private async Task AssertWaitsExactlyAsync(Task<DeliveryResult> send, TimeSpan wait, CountingSink inner, int deliveredBefore)
    {
        Assert.False(send.IsCompleted, "the send passed without waiting");
        _clock.Advance(wait - OneTick);
        // No timer of the sink is due before the full wait, so nothing can have released the send.
        Assert.False(send.IsCompleted, $"the send passed before {wait.TotalMilliseconds} ms");
        Assert.Equal(deliveredBefore, inner.Delivered);

        _clock.Advance(OneTick);
        Assert.Equal(DeliveryResult.Delivered, await send.WaitAsync(Deadline));
    }

    [Fact]
    public async Task Records_per_second_are_paced_to_the_limit()
    {
        var inner = new CountingSink();
        using var sink = new RateLimitedSink(inner, messagesPerSecond: 10, bytesPerSecond: 0, _clock);

        // A second's worth passes at once.
        for (var i = 0; i < 10; i++)
        {
            Assert.True(sink.DeliverAsync(Batch(1), CancellationToken.None).IsCompletedSuccessfully, $"send {i + 1} of the first 10 waited");
        }

        Assert.Equal(10, inner.Delivered);

        // Then one record per 100 ms, the 11th and the 12th alike.
        await AssertWaitsExactlyAsync(sink.DeliverAsync(Batch(1), CancellationToken.None), TimeSpan.FromMilliseconds(100), inner, 10);
        Assert.Equal(11, inner.Delivered);
        await AssertWaitsExactlyAsync(sink.DeliverAsync(Batch(1), CancellationToken.None), TimeSpan.FromMilliseconds(100), inner, 11);
        Assert.Equal(12, inner.Delivered);

        // A batch of 5 waits for 5 refills, not one.
        await AssertWaitsExactlyAsync(sink.DeliverAsync(Batch(5), CancellationToken.None), TimeSpan.FromMilliseconds(500), inner, 12);
        Assert.Equal(17, inner.Delivered);
    }

    [Fact]
    public async Task An_idle_bucket_refills_to_one_seconds_worth_and_no_more()
    {
        var inner = new CountingSink();
        using var sink = new RateLimitedSink(inner, messagesPerSecond: 10, bytesPerSecond: 0, _clock);
        Assert.True(sink.DeliverAsync(Batch(10), CancellationToken.None).IsCompletedSuccessfully);

        // Idle for a minute: the bucket holds 10 again, not 600.
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(sink.DeliverAsync(Batch(10), CancellationToken.None).IsCompletedSuccessfully);

        await AssertWaitsExactlyAsync(sink.DeliverAsync(Batch(1), CancellationToken.None), TimeSpan.FromMilliseconds(100), inner, 20);
    }

    [Fact]
    public async Task A_batch_larger_than_the_remaining_byte_budget_waits_for_the_refill()
    {
        var inner = new CountingSink();
        using var sink = new RateLimitedSink(inner, messagesPerSecond: 0, bytesPerSecond: 400, _clock);

        // 300 of the 400 bytes: passes at once, 100 remain.
        Assert.True(sink.DeliverAsync(Batch(30), CancellationToken.None).IsCompletedSuccessfully);

        // 200 bytes need 100 more: a quarter of a second at 400 B/s.
        await AssertWaitsExactlyAsync(sink.DeliverAsync(Batch(20), CancellationToken.None), TimeSpan.FromMilliseconds(250), inner, 30);
        Assert.Equal(50, inner.Delivered);
    }

    [Fact]
    public async Task A_batch_larger_than_the_whole_byte_budget_passes_a_budget_at_a_time()
    {
        var inner = new CountingSink();
        using var sink = new RateLimitedSink(inner, messagesPerSecond: 0, bytesPerSecond: 400, _clock);

        // 1,000 bytes at 400 B/s: 400 from the full bucket, then 400 after 1 s and the last 200 after another 0.5 s.
        await AssertWaitsExactlyAsync(sink.DeliverAsync(Batch(10, payloadBytes: 100), CancellationToken.None), TimeSpan.FromSeconds(1.5), inner, 0);
        Assert.Equal(10, inner.Delivered);

        // The budget is spent: the next 100 bytes wait their quarter of a second.
        await AssertWaitsExactlyAsync(sink.DeliverAsync(Batch(1, payloadBytes: 100), CancellationToken.None), TimeSpan.FromMilliseconds(250), inner, 10);
    }

    [Fact]
    public async Task Both_limits_hold_a_send_until_each_has_refilled()
    {
        var inner = new CountingSink();
        using var sink = new RateLimitedSink(inner, messagesPerSecond: 10, bytesPerSecond: 1_000, _clock);
        Assert.True(sink.DeliverAsync(Batch(10, payloadBytes: 100), CancellationToken.None).IsCompletedSuccessfully);

        // Both budgets are spent. One more record of 500 bytes: its message token is back after 100 ms, its bytes
        // only after 500 ms.
        await AssertWaitsExactlyAsync(sink.DeliverAsync(Batch(1, payloadBytes: 500), CancellationToken.None), TimeSpan.FromMilliseconds(500), inner, 10);
    }

    [Fact]
    public async Task A_waiting_send_gives_up_when_cancelled_and_the_next_send_waits_its_turn()
    {
        var inner = new CountingSink();
        using var sink = new RateLimitedSink(inner, messagesPerSecond: 10, bytesPerSecond: 0, _clock);
        Assert.True(sink.DeliverAsync(Batch(10), CancellationToken.None).IsCompletedSuccessfully);
        using var cancellation = new CancellationTokenSource();

        var waiting = sink.DeliverAsync(Batch(1), cancellation.Token);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Deadline));
        Assert.Equal(10, inner.Delivered);
        // The cancelled send took no tokens: the next one waits the same 100 ms.
        await AssertWaitsExactlyAsync(sink.DeliverAsync(Batch(1), CancellationToken.None), TimeSpan.FromMilliseconds(100), inner, 10);
    }

    [Fact]
    public async Task The_wait_runs_on_the_given_clock_not_the_real_one()
    {
        var inner = new CountingSink();
        using var sink = new RateLimitedSink(inner, messagesPerSecond: 1, bytesPerSecond: 0, _clock);

        // 120 records at 1/s: two minutes of waiting, longer than the deadline, unless the fake clock drives it.
        var send = sink.DeliverAsync(Batch(120), CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(119));

        Assert.Equal(DeliveryResult.Delivered, await send.WaitAsync(Deadline));
        Assert.Equal(120, inner.Delivered);
    }
}
