using System.Net;
using Gateway.Ingest.Credentials;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Hardening;

public sealed class AuthenticationThrottleTests
{
    private static readonly IPAddress Guesser = IPAddress.Parse("192.0.2.7");
    private static readonly IPAddress Neighbour = IPAddress.Parse("192.0.2.8");

    [Fact]
    public void An_address_is_throttled_at_the_limit_alone_and_only_until_its_oldest_failure_leaves_the_window()
    {
        var time = new FakeTimeProvider();
        var throttle = new AuthenticationThrottle(time, maxFailures: 3, window: TimeSpan.FromMinutes(1));

        throttle.RecordFailure(Guesser);
        time.Advance(TimeSpan.FromSeconds(30));
        throttle.RecordFailure(Guesser);
        Assert.False(throttle.IsThrottled(Guesser));
        throttle.RecordFailure(Guesser);

        Assert.True(throttle.IsThrottled(Guesser));
        Assert.False(throttle.IsThrottled(Neighbour));
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.True(throttle.IsThrottled(Guesser));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(throttle.IsThrottled(Guesser));
    }
}
