using Gateway.Wal.Sqlite;

namespace Gateway.Tests.Wal;

/// <summary>A synced commit waits for company only when the last second's rate says company comes within the wait.</summary>
public sealed class CommitLingerTests
{
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(2);

    [Fact]
    public void Nothing_waits_before_a_rate_is_known()
    {
        var linger = new CommitLinger(Linger);
        Assert.Equal(TimeSpan.Zero, linger.WaitFor(1));

        linger.Observe(1, nowMs: 0);

        Assert.Equal(TimeSpan.Zero, linger.WaitFor(1));
    }

    [Fact]
    public void A_small_batch_waits_at_a_thousand_appends_a_second_and_not_at_a_hundred()
    {
        var busy = new CommitLinger(Linger);
        var quiet = new CommitLinger(Linger);
        for (var ms = 0; ms <= 1000; ms++)
        {
            busy.Observe(1, ms);
            if (ms % 10 == 0)
            {
                quiet.Observe(1, ms);
            }
        }

        Assert.Equal(Linger, busy.WaitFor(3));
        Assert.Equal(TimeSpan.Zero, busy.WaitFor(CommitLinger.EnoughCompany));
        Assert.Equal(TimeSpan.Zero, quiet.WaitFor(1));
    }

    [Fact]
    public void The_wait_ends_when_the_rate_falls_and_a_zero_linger_never_waits()
    {
        var linger = new CommitLinger(Linger);
        var off = new CommitLinger(TimeSpan.Zero);
        for (var ms = 0; ms <= 1000; ms++)
        {
            linger.Observe(1, ms);
            off.Observe(1, ms);
        }

        Assert.Equal(Linger, linger.WaitFor(1));
        Assert.Equal(TimeSpan.Zero, off.WaitFor(1));

        // The next commit comes a minute later: the window it closes held one operation a second.
        linger.Observe(1, 61_000);

        Assert.Equal(TimeSpan.Zero, linger.WaitFor(1));
    }
}
