using Gateway.Partitions;

namespace Gateway.Tests.Partitions;

public sealed class RetryBackoffTests
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(1, 0.5, 1)]
    [InlineData(2, 1, 2)]
    [InlineData(4, 4, 8)]
    [InlineData(7, 30, 60)]
    [InlineData(40, 30, 60)]
    public void Delay_doubles_per_failure_with_jitter_in_the_upper_half_and_stops_at_the_cap(int failures, double minSeconds, double maxSeconds)
    {
        var backoff = new RetryBackoff(Base, Cap, new Random(42));
        var delays = Enumerable.Range(0, 200).Select(_ => backoff.Next(failures)).ToList();

        Assert.All(delays, d => Assert.InRange(d.TotalSeconds, minSeconds, maxSeconds));
        Assert.True(delays.Distinct().Count() > 100, "delays carry no jitter");
    }

    [Fact]
    public void A_longer_retry_after_from_the_sink_wins()
    {
        var backoff = new RetryBackoff(Base, Cap, new Random(1));

        Assert.Equal(TimeSpan.FromSeconds(90), backoff.Next(1, TimeSpan.FromSeconds(90)));
        Assert.True(backoff.Next(3, TimeSpan.FromMilliseconds(1)) >= TimeSpan.FromSeconds(2));
    }
}
