using System.Diagnostics;
using Gateway.Sinks;
using Gateway.Wal;

namespace Gateway.Tests.Egress;

public sealed class RateLimitedSinkTests
{
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

    private static List<WalRecord> Batch(int count) => Enumerable.Range(0, count).Select(i => new WalRecord
    {
        DeliveryId = i, MessageId = $"m{i}", DeviceId = "d", Sequence = i, ReceivedAt = DateTimeOffset.UnixEpoch,
        ContentType = MediaTypes.Json, Payload = new byte[10], Topic = "devices/d/telemetry",
    }).ToList();

    [Fact]
    public async Task Records_per_second_are_held_to_the_limit()
    {
        var inner = new CountingSink();
        using var sink = new RateLimitedSink(inner, messagesPerSecond: 100, bytesPerSecond: 0);
        var clock = Stopwatch.StartNew();

        // 250 records at 100/s: the first 100 pass at once, the rest need at least 1.5 s of refills.
        for (var i = 0; i < 5; i++)
        {
            await sink.DeliverAsync(Batch(50), CancellationToken.None);
        }

        Assert.Equal(250, inner.Delivered);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.4), $"250 records passed in {clock.Elapsed.TotalSeconds:F2}s");
    }

    [Fact]
    public async Task A_batch_larger_than_the_byte_budget_still_passes_a_budget_at_a_time()
    {
        var inner = new CountingSink();
        using var sink = new RateLimitedSink(inner, messagesPerSecond: 0, bytesPerSecond: 400);

        await sink.DeliverAsync(Batch(60), CancellationToken.None);

        Assert.Equal(60, inner.Delivered);
    }
}
