using System.Net;
using System.Text.Json;
using Gateway.Silo.Admin;
using Gateway.Tail;
using Gateway.Telemetry;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;

namespace Gateway.Tests.Admin;

[Collection(AdminGatewayCollection.Name)]
public sealed class LiveTailTests(AdminGateway gateway)
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Device_tail_streams_messages_published_over_mqtt_as_server_sent_events()
    {
        var device = AdminGateway.NewDeviceId("tail");
        var other = AdminGateway.NewDeviceId("tail-other");
        using var admin = gateway.Admin;
        await using var tail = await SseClient.OpenAsync(admin, $"/admin/v1/tail?deviceId={device}");

        var (client, _) = await MqttTestClient.ConnectAsync(gateway.MqttPort);
        using (client)
        {
            for (var i = 1; i <= 3; i++)
            {
                Assert.Equal(MqttClientPublishReasonCode.Success, (await client.PublishAsync($"devices/{other}/telemetry", $$"""{"n": {{i}}}""")).ReasonCode);
                Assert.Equal(MqttClientPublishReasonCode.Success, (await client.PublishAsync($"devices/{device}/telemetry/engine", $$"""{"n": {{i}}}""")).ReasonCode);
            }
        }

        for (var i = 1; i <= 3; i++)
        {
            var message = await tail.NextAsync("message", EventTimeout);
            var data = JsonDocument.Parse(message.Data).RootElement;
            Assert.Equal(device, data.GetProperty("deviceId").GetString());
            Assert.Equal(i, data.GetProperty("sequence").GetInt64());
            Assert.Equal($"devices/{device}/telemetry/engine", data.GetProperty("topic").GetString());
            Assert.Equal("json", data.GetProperty("payloadEncoding").GetString());
            Assert.Equal(i, data.GetProperty("payload").GetProperty("n").GetInt32());
            Assert.Equal(data.GetProperty("messageId").GetString(), message.Id);
        }
    }

    [Fact]
    public async Task Topic_filter_tail_streams_only_matching_topics_of_any_device()
    {
        var first = AdminGateway.NewDeviceId("filter");
        var second = AdminGateway.NewDeviceId("filter");
        using var admin = gateway.Admin;
        await using var tail = await SseClient.OpenAsync(admin, $"/admin/v1/tail?topic={Uri.EscapeDataString("devices/+/telemetry/alarm")}");

        var (client, _) = await MqttTestClient.ConnectAsync(gateway.MqttPort);
        using (client)
        {
            await client.PublishAsync($"devices/{first}/telemetry/temperature", """{"t": 20}""");
            await client.PublishAsync($"devices/{first}/telemetry/alarm", """{"level": 1}""");
            await client.PublishAsync($"devices/{second}/telemetry/alarm", """{"level": 2}""");
        }

        var received = new List<JsonElement>();
        while (received.Count < 2)
        {
            var data = JsonDocument.Parse((await tail.NextAsync("message", EventTimeout)).Data).RootElement;
            // Other tests' traffic may match a '+' filter too; only this test's devices are checked.
            if (data.GetProperty("deviceId").GetString() is { } id && (id == first || id == second))
            {
                received.Add(data);
            }
        }

        Assert.All(received, data => Assert.EndsWith("/telemetry/alarm", data.GetProperty("topic").GetString(), StringComparison.Ordinal));
        // The two devices ride different streams, so their relative order is not kept; each device's is.
        Assert.Equal([1, 2], received.Select(data => data.GetProperty("payload").GetProperty("level").GetInt32()).Order());
    }

    [Fact]
    public async Task Devices_publish_to_the_tail_only_while_a_viewer_watches()
    {
        var services = gateway.Services;
        var device = AdminGateway.NewDeviceId("unwatched");
        var partition = services.GetRequiredService<Gateway.Routing.PartitionRouter>().PartitionOf(device);
        var interest = services.GetRequiredService<TailInterest>();
        // A raw subscriber that registers no interest: it sees whatever the device grain publishes.
        var streams = services.GetRequiredService<IClusterClient>().GetStreamProvider(TailStreams.Provider);
        await using var observer = await TailViewer.SubscribeAsync(streams, [partition], device, null, capacity: 16, services.GetRequiredService<GatewayMetrics>());
        await Eventually.TrueAsync(() => !interest.IsWatched(partition), "earlier tails of this partition gone", TimeSpan.FromSeconds(30));

        var (client, _) = await MqttTestClient.ConnectAsync(gateway.MqttPort);
        using (client)
        {
            Assert.Equal(MqttClientPublishReasonCode.Success, (await client.PublishAsync($"devices/{device}/telemetry", """{"n": 1}""")).ReasonCode);

            using var admin = gateway.Admin;
            await using var tail = await SseClient.OpenAsync(admin, $"/admin/v1/tail?deviceId={device}");
            Assert.Equal(MqttClientPublishReasonCode.Success, (await client.PublishAsync($"devices/{device}/telemetry", """{"n": 2}""")).ReasonCode);
            await tail.NextAsync("message", EventTimeout);
        }

        // The stream keeps one device's publishes in order: had the first been published, it would be here before the second.
        await Eventually.TrueAsync(() => observer.Messages.Count > 0, "the watched message reached the raw subscriber", EventTimeout);
        Assert.True(observer.Messages.TryRead(out var first));
        Assert.Equal(2, first.Sequence);
    }

    [Fact]
    public async Task Slow_viewer_loses_messages_beyond_its_buffer_and_they_are_counted_without_waiting()
    {
        var services = gateway.Services;
        var streams = services.GetRequiredService<IClusterClient>().GetStreamProvider(TailStreams.Provider);
        await using var viewer = await TailViewer.SubscribeAsync(streams, [], "slow", null, capacity: 4, services.GetRequiredService<GatewayMetrics>());

        for (var i = 1; i <= 10; i++)
        {
            // Completes at once even though nobody reads: the stream is never held up by a viewer.
            Assert.True(viewer.OnNextAsync(new TailedMessage($"gateway:slow:{i}", "slow", i, "devices/slow/telemetry", "application/json",
                DateTimeOffset.UtcNow, "{}"u8.ToArray(), null)).IsCompletedSuccessfully);
        }

        Assert.Equal(6, viewer.Dropped);
        var kept = new List<long>();
        while (viewer.Messages.TryRead(out var message))
        {
            kept.Add(message.Sequence);
        }

        Assert.Equal([1, 2, 3, 4], kept);
    }

    [Fact]
    public async Task Tail_answers_as_an_event_stream()
    {
        using var admin = gateway.Admin;
        await using var tail = await SseClient.OpenAsync(admin, $"/admin/v1/tail?deviceId={AdminGateway.NewDeviceId("headers")}");

        Assert.Equal(HttpStatusCode.OK, tail.Response.StatusCode);
        Assert.Equal("text/event-stream", tail.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", tail.Response.Headers.CacheControl?.ToString());
    }
}

/// <summary>A minimal Server-Sent Events reader over HttpClient: opens the stream and reads events one at a time.</summary>
public sealed class SseClient : IAsyncDisposable
{
    private readonly StreamReader _reader;
    private readonly CancellationTokenSource _closed = new();

    private SseClient(HttpResponseMessage response, StreamReader reader)
    {
        Response = response;
        _reader = reader;
    }

    public HttpResponseMessage Response { get; }

    /// <summary>Opens the stream and returns once the server says the tail is subscribed.</summary>
    public static async Task<SseClient> OpenAsync(HttpClient client, string path)
    {
        client.Timeout = Timeout.InfiniteTimeSpan;
        var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        var sse = new SseClient(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await sse._reader.ReadLineAsync(timeout.Token) is { } line && line != ": subscribed")
        {
        }

        return sse;
    }

    /// <summary>The next event named <paramref name="name"/>, skipping comments and other events.</summary>
    public async Task<(string Id, string Data)> NextAsync(string name, TimeSpan timeout)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token);
        deadline.CancelAfter(timeout);
        string? eventName = null, id = null, data = null;
        while (await _reader.ReadLineAsync(deadline.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (eventName == name && data is not null)
                {
                    return (id ?? "", data);
                }

                (eventName, id, data) = (null, null, null);
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                eventName = line[7..];
            }
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line[4..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line[6..];
            }
        }

        throw new EndOfStreamException("The event stream ended.");
    }

    public async ValueTask DisposeAsync()
    {
        await _closed.CancelAsync();
        _reader.Dispose();
        Response.Dispose();
        _closed.Dispose();
    }
}
