using Gateway.Partitions;

namespace Gateway.Tests.Partitions;

public sealed class LingerGridTests
{
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(100);

    [Fact]
    public void Partitions_woken_at_different_moments_of_one_period_send_at_the_same_tick()
    {
        var tick = DateTimeOffset.FromUnixTimeMilliseconds(1_764_633_600_000);
        var early = tick.AddMilliseconds(3);
        var late = tick.AddMilliseconds(97);

        Assert.Equal(tick + Linger, early + LingerGrid.UntilNextTick(early, Linger));
        Assert.Equal(tick + Linger, late + LingerGrid.UntilNextTick(late, Linger));
    }

    [Fact]
    public void A_wake_never_waits_longer_than_the_linger_and_zero_sends_at_once()
    {
        var start = DateTimeOffset.FromUnixTimeMilliseconds(1_764_633_600_000);
        for (var offset = 0; offset < 250; offset += 7)
        {
            Assert.InRange(LingerGrid.UntilNextTick(start.AddMilliseconds(offset), Linger), TimeSpan.FromTicks(1), Linger);
        }

        Assert.Equal(TimeSpan.Zero, LingerGrid.UntilNextTick(start.AddMilliseconds(42), TimeSpan.Zero));
    }
}
