using System.Text;
using System.Text.Json;
using Gateway.DeadLetters;
using Gateway.Devices;
using Gateway.Partitions;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Egress;

[Collection(EgressCollection.Name)]
public sealed class HttpSinkTests(EgressFixture fixture)
{
    private static IncomingMessage Json(string deviceId, int n) =>
        new(Encoding.UTF8.GetBytes($$"""{"n":{{n}}}"""), "application/json", null, null, "test", DeviceId.TelemetryTopic(deviceId));

    private async Task SendAsync(string deviceId, int count)
    {
        var device = fixture.Cluster.GrainFactory.GetGrain<IDeviceGrain>(deviceId);
        for (var n = 1; n <= count; n++)
        {
            Assert.True((await device.AcceptAsync([Json(deviceId, n)])).IsAccepted);
        }
    }

    private static List<long> Sequences(IEnumerable<JsonElement> records, string deviceId) =>
        records.Where(r => r.GetProperty("deviceId").GetString() == deviceId).Select(r => r.GetProperty("sequence").GetInt64()).ToList();

    private Task<PartitionStatus> PartitionOfAsync(string sink, string deviceId) =>
        fixture.Cluster.GrainFactory.GetGrain<IDeviceGrain>(deviceId).GetStatusAsync().ContinueWith(status =>
            fixture.Cluster.GrainFactory.GetGrain<IPartitionGrain>(new PartitionKey(sink, status.Result.Partition).ToString()).GetStatusAsync()).Unwrap();

    [Fact]
    public async Task A_batch_carries_each_records_message_id_and_the_same_idempotency_key_when_retried()
    {
        var receiver = fixture.Receivers["retry"];
        var calls = 0;
        receiver.Respond = _ => Interlocked.Increment(ref calls) == 1 ? (503, null) : (200, null);

        await SendAsync("retry-1", 3);
        await Eventually.TrueAsync(() => receiver.Accepted.Count() == 3, "the batch accepted after one retry");

        // Messages sent one by one may leave in more than one batch; the failed one is retried as it was.
        var requests = receiver.Requests.ToList();
        var failed = requests[0];
        Assert.Equal(503, failed.Status);
        Assert.Equal(64, failed.IdempotencyKey!.Length);
        var retried = Assert.Single(requests, r => r.Status == 200 && r.IdempotencyKey == failed.IdempotencyKey);
        Assert.Equal(failed.Records.Select(r => r.GetProperty("messageId").GetString()), retried.Records.Select(r => r.GetProperty("messageId").GetString()));
        Assert.Equal(["gateway:retry-1:1", "gateway:retry-1:2", "gateway:retry-1:3"], receiver.Accepted.Select(r => r.GetProperty("messageId").GetString()));
    }

    [Fact]
    public async Task Per_device_order_holds_when_the_cloud_fails_every_other_request()
    {
        var receiver = fixture.Receivers["flaky"];
        var calls = 0;
        receiver.Respond = _ => Interlocked.Increment(ref calls) % 2 == 1 ? (503, null) : (200, null);
        var devices = Enumerable.Range(0, 4).Select(i => $"flaky-{i}").ToList();

        await Task.WhenAll(devices.Select(device => SendAsync(device, 40)));
        await Eventually.TrueAsync(() => devices.All(device => Sequences(receiver.Accepted, device).Distinct().Count() == 40), "all records accepted");

        foreach (var device in devices)
        {
            Assert.Equal(Enumerable.Range(1, 40).Select(n => (long)n), Sequences(receiver.Accepted, device));
        }

        Assert.Contains(receiver.Requests, r => r.Status == 503);
    }

    [Fact]
    public async Task A_4xx_dead_letters_with_the_response_as_reason_and_replay_delivers_once_fixed()
    {
        var receiver = fixture.Receivers["reject"];
        receiver.Respond = _ => (400, null);
        var dead = fixture.Cluster.GrainFactory.GetGrain<IDeadLettersGrain>(0);
        var filter = new DeadLetterFilter(Sink: "reject", DeviceId: "reject-1");

        await SendAsync("reject-1", 2);
        await Eventually.TrueAsync(async () => (await dead.ListAsync(filter, 0, 10)).Count == 2, "both records dead");
        var letters = await dead.ListAsync(filter, 0, 10);
        Assert.All(letters, letter => Assert.StartsWith("HTTP 400", letter.LastError));
        Assert.All(letters, letter => Assert.Equal(1, letter.Attempts));
        // Refused for good: each record was sent once, never retried.
        Assert.Equal(2, receiver.Requests.Where(r => r.Status == 400).Sum(r => r.Records.Count));

        receiver.Respond = _ => (200, null);
        Assert.Equal(2, await dead.ReplayAsync(filter));

        await Eventually.TrueAsync(() => receiver.Accepted.Count() == 2, "replayed records delivered");
        Assert.Empty(await dead.ListAsync(filter, 0, 10));
        Assert.Equal([1L, 2L], Sequences(receiver.Accepted, "reject-1"));
    }

    [Fact]
    public async Task The_circuit_opens_after_consecutive_failures_stops_sending_and_closes_when_the_cloud_recovers()
    {
        var receiver = fixture.Receivers["outage"];
        receiver.Respond = _ => (503, null);

        await SendAsync("outage-1", 5);
        await Eventually.TrueAsync(async () => (await PartitionOfAsync("outage", "outage-1")).Circuit == "Open", "the circuit open");
        var requestsWhenOpened = receiver.Requests.Count;
        Assert.InRange(requestsWhenOpened, EgressFixture.CircuitFailureThreshold, EgressFixture.CircuitFailureThreshold + 1);

        // Without the circuit, a 200 ms backoff cap would retry ~15 times in 3 s; open, it sends one probe a second.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.InRange(receiver.Requests.Count - requestsWhenOpened, 1, 5);

        receiver.Respond = _ => (200, null);
        await Eventually.TrueAsync(() => receiver.Accepted.Count() == 5, "delivery after recovery");
        Assert.Equal("Closed", (await PartitionOfAsync("outage", "outage-1")).Circuit);
    }

    [Fact]
    public async Task Gzip_compresses_request_bodies()
    {
        var receiver = fixture.Receivers["gzip"];

        await SendAsync("gzip-1", 2);

        await Eventually.TrueAsync(() => receiver.Accepted.Count() == 2, "records delivered");
        Assert.All(receiver.Requests, request => Assert.Equal("gzip", request.ContentEncoding));
    }

    [Fact]
    public async Task Retry_after_from_the_cloud_is_honored()
    {
        var receiver = fixture.Receivers["slow"];
        var calls = 0;
        var times = new List<DateTimeOffset>();
        receiver.Respond = _ =>
        {
            lock (times)
            {
                times.Add(DateTimeOffset.UtcNow);
            }

            return Interlocked.Increment(ref calls) == 1 ? (429, "2") : (200, null);
        };

        await SendAsync("slow-1", 1);

        await Eventually.TrueAsync(() => receiver.Accepted.Any(), "the record delivered after the asked delay");
        Assert.True(times[1] - times[0] >= TimeSpan.FromSeconds(1.9), $"retried after {(times[1] - times[0]).TotalSeconds:F2}s, before Retry-After");
    }

    [Fact]
    public async Task When_a_probe_closes_the_circuit_the_sinks_other_partitions_resume_at_once()
    {
        var receiver = fixture.Receivers["resume"];
        receiver.Respond = _ => (503, null);
        var router = new Gateway.Routing.PartitionRouter([], Microsoft.Extensions.Options.Options.Create(new DeliveryOptions()));
        var first = "resume-a";
        var second = Enumerable.Range(0, 100).Select(i => $"resume-{i}").First(id => router.PartitionOf(id) != router.PartitionOf(first));

        await SendAsync(first, 1);
        await SendAsync(second, 1);
        await Eventually.TrueAsync(async () => (await PartitionOfAsync("resume", first)).Circuit == "Open", "the circuit open");
        var answered = 0;
        receiver.Respond = _ =>
        {
            // A slow answer to the probe: the other partition comes while it is out and is told to wait.
            if (Interlocked.Increment(ref answered) == 1)
            {
                Thread.Sleep(TimeSpan.FromSeconds(1));
            }

            return (200, null);
        };

        // One partition probes when the open period ends; the other, woken by the probe's success, follows at
        // once instead of sleeping through another open period.
        await Eventually.TrueAsync(() => receiver.Accepted.Any(), "the probe delivered", TimeSpan.FromSeconds(30));
        var probeDelivered = DateTimeOffset.UtcNow;
        await Eventually.TrueAsync(() => receiver.Accepted.Count() == 2, "both devices delivered", TimeSpan.FromSeconds(30));
        Assert.True(DateTimeOffset.UtcNow - probeDelivered < EgressFixture.LongCircuitOpenDuration / 2,
            "the second partition waited out another open period");
    }
}
