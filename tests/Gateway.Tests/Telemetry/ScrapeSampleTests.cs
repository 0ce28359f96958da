using Gateway.Telemetry;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Telemetry;

public sealed class ScrapeSampleTests
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new();
    private int _reads;

    [Fact]
    public async Task Nothing_is_read_until_a_scrape_asks_and_the_first_scrape_starts_the_read_without_waiting_for_it()
    {
        var release = new TaskCompletionSource();
        var sample = new ScrapeSample<string>(async () =>
        {
            Interlocked.Increment(ref _reads);
            await release.Task;
            return "value";
        }, MaxAge, _time, NullLogger.Instance);
        Assert.Equal(0, _reads);

        Assert.Null(sample.Latest);
        Assert.Null(sample.Latest);
        release.SetResult();

        await Eventually.TrueAsync(() => sample.Latest == "value", "the first read's value");
        Assert.Equal(1, _reads);
    }

    [Fact]
    public async Task A_value_is_reused_until_it_is_older_than_its_max_age_then_read_again_in_the_background()
    {
        var sample = new ScrapeSample<string>(() => Task.FromResult($"read {Interlocked.Increment(ref _reads)}"), MaxAge, _time, NullLogger.Instance);
        _ = sample.Latest;
        await Eventually.TrueAsync(() => sample.Latest == "read 1", "the first read");

        _time.Advance(MaxAge - TimeSpan.FromMilliseconds(1));
        Assert.Equal("read 1", sample.Latest);
        Assert.Equal(1, _reads);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("read 1", sample.Latest);
        await Eventually.TrueAsync(() => sample.Latest == "read 2", "the read the stale value started");
    }

    [Fact]
    public async Task A_slow_read_is_reused_for_fifty_times_as_long_as_it_took()
    {
        var sample = new ScrapeSample<string>(() =>
        {
            // A read over a large backlog: two seconds of the clock.
            _time.Advance(TimeSpan.FromSeconds(2));
            return Task.FromResult($"read {Interlocked.Increment(ref _reads)}");
        }, MaxAge, _time, NullLogger.Instance);
        _ = sample.Latest;
        await Eventually.TrueAsync(() => sample.Latest == "read 1", "the first read");

        _time.Advance(TimeSpan.FromSeconds(2 * ScrapeSample<string>.CostFactor) - TimeSpan.FromMilliseconds(1));
        Assert.Equal("read 1", sample.Latest);
        Assert.Equal(1, _reads);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        _ = sample.Latest;
        await Eventually.TrueAsync(() => sample.Latest == "read 2", "the read after a hundred seconds");
    }

    [Fact]
    public async Task A_failed_read_leaves_no_value_rather_than_a_stale_one_and_the_next_scrape_tries_again()
    {
        var fail = false;
        var sample = new ScrapeSample<string>(() =>
        {
            Interlocked.Increment(ref _reads);
            return Volatile.Read(ref fail) ? Task.FromException<string>(new IOException("disk gone")) : Task.FromResult("value");
        }, MaxAge, _time, NullLogger.Instance);
        _ = sample.Latest;
        await Eventually.TrueAsync(() => sample.Latest == "value", "the first read");

        Volatile.Write(ref fail, true);
        _time.Advance(MaxAge);
        _ = sample.Latest;
        await Eventually.TrueAsync(() => sample.Latest is null && _reads >= 2, "the failed read to clear the value");

        Volatile.Write(ref fail, false);
        await Eventually.TrueAsync(() => sample.Latest == "value", "a later scrape's read");
    }
}
