using System.Text;
using System.Text.Json;
using Gateway.Devices;
using Gateway.Partitions;
using Gateway.Routing;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Egress;

/// <summary>
/// When the HTTP sink sends, on a silo whose clock the test advances: retries, Retry-After and the circuit are
/// checked against the fake clock, so a slow machine changes how long a test takes, never what it sees.
/// </summary>
/// <remarks>
/// After moving the clock a test calls <see cref="SettleAsync"/>: a grain runs one turn at a time, so a status call
/// to a partition returns only after the timer tick the advance queued on it, with that tick's request and answer.
/// What the receiver has then seen is all the partition will send until the clock moves again.
/// </remarks>
[Collection(FakeClockEgressCollection.Name)]
public sealed class HttpSinkClockTests(FakeClockEgressFixture fixture)
{
    // The circuit's jitter: a partition waiting on an open circuit asks again up to this much after it ends.
    private static readonly TimeSpan CircuitJitter = TimeSpan.FromMilliseconds(250);

    private static IncomingMessage Json(string deviceId, int n) =>
        new(Encoding.UTF8.GetBytes($$"""{"n":{{n}}}"""), "application/json", null, null, "test", TelemetryTopic.Of(deviceId));

    private async Task SendAsync(string deviceId, int count)
    {
        var device = fixture.Cluster.GrainFactory.GetGrain<IDeviceGrain>(deviceId);
        for (var n = 1; n <= count; n++)
        {
            Assert.True((await device.AcceptAsync([Json(deviceId, n)])).IsAccepted);
        }
    }

    private async Task<PartitionStatus> PartitionOfAsync(string sink, string deviceId)
    {
        var device = await fixture.Cluster.GrainFactory.GetGrain<IDeviceGrain>(deviceId).GetStatusAsync();
        return await fixture.Cluster.GrainFactory.GetGrain<IPartitionGrain>(new PartitionKey(sink, device.Partition).ToString()).GetStatusAsync();
    }

    /// <summary>Waits until the partitions of <paramref name="deviceIds"/> have run every turn the clock made due.</summary>
    private async Task SettleAsync(string sink, params string[] deviceIds)
    {
        foreach (var deviceId in deviceIds)
        {
            await PartitionOfAsync(sink, deviceId);
        }
    }

    private async Task AdvanceAsync(TimeSpan by, string sink, params string[] deviceIds)
    {
        fixture.Clock.Advance(by);
        await SettleAsync(sink, deviceIds);
    }

    /// <summary>Fails the sink's batches until its circuit opens, moving the clock a backoff at a time.</summary>
    private async Task OpenTheCircuitAsync(string sink, params string[] deviceIds)
    {
        var receiver = fixture.Receivers[sink];
        await Eventually.TrueAsync(() => receiver.Requests.Count >= deviceIds.Length, "the first attempts");
        for (var step = 0; (await PartitionOfAsync(sink, deviceIds[0])).Circuit != "Open"; step++)
        {
            Assert.True(step < 20, "the circuit did not open");
            await AdvanceAsync(EgressSilo.BackoffCap, sink, deviceIds);
        }

        // Every backoff armed before the circuit opened comes due, finds it open and turns into a wait for it.
        await AdvanceAsync(EgressSilo.BackoffCap, sink, deviceIds);
    }

    [Fact]
    public async Task The_circuit_opens_after_consecutive_failures_stops_sending_and_closes_when_the_cloud_recovers()
    {
        var receiver = fixture.Receivers["outage"];
        receiver.Respond = _ => (503, null);

        await SendAsync("outage-1", 5);
        await OpenTheCircuitAsync("outage", "outage-1");
        Assert.Equal(EgressSilo.CircuitFailureThreshold, receiver.Requests.Count);

        // Each open period: nothing for its length, though a backoff (at most 200 ms) would retry every step; then
        // one probe, which fails and opens the circuit again.
        for (var period = 1; period <= 2; period++)
        {
            var before = receiver.Requests.Count;
            for (var elapsed = EgressSilo.BackoffCap; elapsed < EgressSilo.CircuitOpenDuration - EgressSilo.BackoffCap; elapsed += EgressSilo.BackoffCap)
            {
                await AdvanceAsync(EgressSilo.BackoffCap, "outage", "outage-1");
                Assert.Equal(before, receiver.Requests.Count);
            }

            await AdvanceAsync(EgressSilo.BackoffCap + CircuitJitter, "outage", "outage-1");
            Assert.Equal(before + 1, receiver.Requests.Count);
            Assert.Equal("Open", (await PartitionOfAsync("outage", "outage-1")).Circuit);
            await AdvanceAsync(EgressSilo.BackoffCap, "outage", "outage-1");
        }

        receiver.Respond = _ => (200, null);
        await AdvanceAsync(EgressSilo.CircuitOpenDuration + CircuitJitter, "outage", "outage-1");
        await Eventually.TrueAsync(() => receiver.Accepted.Count() == 5, "delivery after recovery");
        Assert.Equal("Closed", (await PartitionOfAsync("outage", "outage-1")).Circuit);
    }

    [Fact]
    public async Task Retry_after_from_the_cloud_is_honored()
    {
        var receiver = fixture.Receivers["slow"];
        var calls = 0;
        receiver.Respond = _ => Interlocked.Increment(ref calls) == 1 ? (429, "2") : (200, null);

        await SendAsync("slow-1", 1);
        await Eventually.TrueAsync(() => receiver.Requests.Count == 1, "the first attempt");
        // The 2 s count from the answer, on a clock that has not moved: let the partition finish that turn first.
        await SettleAsync("slow", "slow-1");

        // The backoff alone would retry within 20 ms; the cloud asked for 2 s, and gets them to the millisecond.
        for (var elapsed = TimeSpan.Zero; elapsed < TimeSpan.FromSeconds(1.8); elapsed += EgressSilo.BackoffCap)
        {
            await AdvanceAsync(EgressSilo.BackoffCap, "slow", "slow-1");
            Assert.Single(receiver.Requests);
        }

        await AdvanceAsync(TimeSpan.FromMilliseconds(199), "slow", "slow-1");
        Assert.Single(receiver.Requests);

        fixture.Clock.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.TrueAsync(() => receiver.Accepted.Any(), "the record delivered after the asked delay");
        Assert.Equal(2, receiver.Requests.Count);
    }

    [Fact]
    public async Task When_a_probe_closes_the_circuit_the_sinks_other_partitions_resume_at_once()
    {
        var receiver = fixture.Receivers["resume"];
        receiver.Respond = _ => (503, null);
        var router = new PartitionRouter([], Options.Create(new DeliveryOptions()));
        var devices = new[] { "resume-a", Enumerable.Range(0, 100).Select(i => $"resume-{i}").First(id => router.PartitionOf(id) != router.PartitionOf("resume-a")) };

        await SendAsync(devices[0], 1);
        await SendAsync(devices[1], 1);
        await OpenTheCircuitAsync("resume", devices);
        var failures = receiver.Requests.Count;

        // The probe is held at the cloud until the test lets it go.
        var probe = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.BeforeAnswer = records =>
        {
            probe.TrySetResult(records[0].GetProperty("deviceId").GetString()!);
            return release.Task;
        };
        receiver.Respond = _ => (200, null);

        try
        {
            // Both partitions' waits end: one sends the probe; the other finds it out and waits another open period.
            fixture.Clock.Advance(EgressSilo.CircuitOpenDuration + CircuitJitter);
            var prober = await probe.Task.WaitAsync(Eventually.DefaultTimeout);
            var other = devices.Single(device => device != prober);
            var waiting = await PartitionOfAsync("resume", other);
            Assert.True(waiting.NextAttemptAt > fixture.Clock.GetUtcNow(), "the other partition is not waiting for the circuit");
            Assert.Equal(failures, receiver.Requests.Count);

            // The probe succeeds and the other partition follows with the clock standing still: it was woken, not
            // left to sleep through its open period.
            release.SetResult();
            await Eventually.TrueAsync(() => receiver.Accepted.Count() == 2, "both devices delivered");
            Assert.Equal([prober, other], receiver.Accepted.Select(record => record.GetProperty("deviceId").GetString()));
        }
        finally
        {
            // A failed test must not leave a request open at the receiver: its shutdown would wait for it.
            release.TrySetResult();
        }
    }
}
