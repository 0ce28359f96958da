using System.Text;
using System.Text.Json;
using Gateway.DeadLetters;
using Gateway.Devices;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Egress;

[Collection(EgressCollection.Name)]
public sealed class HttpSinkTests(EgressFixture fixture)
{
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

    private static List<long> Sequences(IEnumerable<JsonElement> records, string deviceId) =>
        records.Where(r => r.GetProperty("deviceId").GetString() == deviceId).Select(r => r.GetProperty("sequence").GetInt64()).ToList();

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
    public async Task Gzip_compresses_request_bodies()
    {
        var receiver = fixture.Receivers["gzip"];

        await SendAsync("gzip-1", 2);

        await Eventually.TrueAsync(() => receiver.Accepted.Count() == 2, "records delivered");
        Assert.All(receiver.Requests, request => Assert.Equal("gzip", request.ContentEncoding));
    }
}
