namespace Gateway.Partitions;

/// <summary>
/// The ticks partitions send on when they linger (<see cref="DeliveryOptions.Linger"/>): multiples of the period since
/// the epoch, the same for every partition of every sink, so partitions woken at about the same time send together
/// and their leases, sink writes and acks share commits and syncs.
/// </summary>
public static class LingerGrid
{
    /// <summary>The time from <paramref name="now"/> to the next tick; zero when <paramref name="linger"/> is zero.</summary>
    public static TimeSpan UntilNextTick(DateTimeOffset now, TimeSpan linger) =>
        linger <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks(linger.Ticks - now.UtcTicks % linger.Ticks);
}
