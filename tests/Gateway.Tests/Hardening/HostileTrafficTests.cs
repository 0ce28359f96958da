using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Mqtt;
using MQTTnet;
using MQTTnet.Protocol;

namespace Gateway.Tests.Hardening;

/// <summary>
/// Hostile input against the running gateway process, each attack bounded in count and time, while honest devices
/// publish beside it: the process stays up, the honest devices keep getting acknowledgements and deliveries, and
/// every refusal is counted by reason on <c>/metrics</c>.
/// </summary>
public sealed class HostileTrafficTests(HostileGatewayFixture fixture) : IClassFixture<HostileGatewayFixture>
{
    private const string MqttRefusals = "gateway_mqtt_connections_refused_total";
    private const string OpenConnections = "gateway_mqtt_connections_open";
    private const string OnTls = "listener=\"tls\"";
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(15);

    private GatewayProcess Gateway => fixture.Gateway;

    [Fact]
    public async Task Random_and_mutated_mqtt_packets_close_only_their_own_connections()
    {
        const int seed = 20261125;
        var random = new Random(seed);
        var malformedBefore = await fixture.MetricAsync(MqttRefusals, "reason=\"malformed-packet\"");
        var incompleteBefore = await fixture.MetricAsync(MqttRefusals, "reason=\"connect-not-completed\"");
        var valid = RawMqtt.Connect("fuzz").Concat(RawMqtt.Publish("devices/fuzz/telemetry"u8.ToArray(), 1, "{\"a\":1}"u8.ToArray())).ToArray();
        var inputs = Enumerable.Range(0, 120).Select(i => i % 2 == 0 ? RandomBytes(random) : Mutate(valid, random)).ToList();

        await using var honest = await HonestDevices.StartAsync(Gateway);
        using var concurrency = new SemaphoreSlim(8);
        var closedByServer = await Task.WhenAll(inputs.Select(async input =>
        {
            await concurrency.WaitAsync();
            try
            {
                using var connection = await RawConnection.OpenAsync("127.0.0.3", Gateway.MqttPort);
                await connection.SendAsync(input);
                return (await connection.ReadUntilClosedAsync(CloseTimeout)).Closed;
            }
            finally
            {
                concurrency.Release();
            }
        }));
        await honest.StopAndAssertAllAcknowledgedAsync();

        // A mutation may leave a valid CONNECT and PUBLISH (and a live session); nearly all must be closed.
        Assert.True(closedByServer.Count(closed => closed) >= inputs.Count * 3 / 4, $"seed {seed}: only {closedByServer.Count(closed => closed)} of {inputs.Count} closed");
        await fixture.AssertMetricReachesAsync(MqttRefusals, "reason=\"malformed-packet\"", malformedBefore + 1);
        await fixture.AssertMetricReachesAsync(MqttRefusals, "reason=\"connect-not-completed\"", incompleteBefore + 1);
        await honest.AssertAllDeliveredAsync();
    }

    [Fact]
    public async Task A_packet_announcing_256_mb_is_refused_from_its_header_before_and_after_connect()
    {
        var before = await fixture.MetricAsync(MqttRefusals, "reason=\"packet-too-large\"");
        const int attempts = 20;

        await using var honest = await HonestDevices.StartAsync(Gateway);
        for (var i = 0; i < attempts; i++)
        {
            using var connection = await RawConnection.OpenAsync("127.0.0.4", Gateway.MqttPort);
            // Half announce a 256 MB CONNECT; half connect properly and then announce a 256 MB PUBLISH.
            if (i % 2 == 1)
            {
                await connection.SendAsync(RawMqtt.Connect($"big-{i}"));
                Assert.Equal([0x20, 0x02, 0x00, 0x00], await connection.ReadAsync(4, CloseTimeout));
            }

            await connection.SendAsync(RawMqtt.HeaderOnly(i % 2 == 1 ? (byte)0x32 : (byte)0x10, 268_435_455));
            // Closed at once: the body is never waited for (nor allocated).
            Assert.True((await connection.ReadUntilClosedAsync(CloseTimeout)).Closed, $"attempt {i} was not closed");
        }

        await honest.StopAndAssertAllAcknowledgedAsync();
        await fixture.AssertMetricReachesAsync(MqttRefusals, "reason=\"packet-too-large\"", before + attempts);
        await honest.AssertAllDeliveredAsync();
    }

    [Fact]
    public async Task Invalid_utf8_in_topics_payloads_and_urls_is_refused_and_counted()
    {
        var invalidIdBefore = await fixture.MetricAsync("gateway_mqtt_messages_refused_total", "reason=\"invalid-device-id\"");
        var jsonBefore = await fixture.MetricAsync("gateway_ingest_refusals_total", "error_type=\"malformed-json\"");

        await using var honest = await HonestDevices.StartAsync(Gateway);
        using (var connection = await RawConnection.OpenAsync("127.0.0.5", Gateway.MqttPort))
        {
            await connection.SendAsync(RawMqtt.Connect("utf8-topic"));
            Assert.Equal([0x20, 0x02, 0x00, 0x00], await connection.ReadAsync(4, CloseTimeout));
            await connection.SendAsync(RawMqtt.Publish([.. "devices/"u8, 0xC3, 0x28, .. "/telemetry"u8], 7, "{}"u8.ToArray()));
            // MQTT 3.1.1 has no refusal PUBACK: the connection closes without one, so the client resends later.
            var (received, closed) = await connection.ReadUntilClosedAsync(CloseTimeout);
            Assert.True(closed);
            Assert.Empty(received);
        }

        var (device, _) = await MqttTestClient.ConnectAsync(Gateway.MqttPort);
        using (device)
        {
            var invalidJson = new MqttApplicationMessageBuilder().WithTopic($"devices/{MqttTestClient.NewDeviceId()}/telemetry")
                .WithPayload(new byte[] { 0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D }).WithContentType("application/json")
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
            Assert.Equal(MqttClientPublishReasonCode.PayloadFormatInvalid, (await device.PublishAsync(invalidJson)).ReasonCode);
        }

        using var body = new ByteArrayContent([0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D]);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var invalidBody = await Gateway.Http.PostAsync($"/v1/devices/{MqttTestClient.NewDeviceId()}/telemetry", body);
        Assert.Equal(HttpStatusCode.BadRequest, invalidBody.StatusCode);
        using var invalidDevice = await Gateway.Http.PostAsync("/v1/devices/%C3%28%FF/telemetry", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.True((int)invalidDevice.StatusCode is 400 or 404, $"device id of invalid UTF-8: {(int)invalidDevice.StatusCode}");

        await honest.StopAndAssertAllAcknowledgedAsync();
        await fixture.AssertMetricReachesAsync("gateway_mqtt_messages_refused_total", "reason=\"invalid-device-id\"", invalidIdBefore + 1);
        await fixture.AssertMetricReachesAsync("gateway_ingest_refusals_total", "error_type=\"malformed-json\"", jsonBefore + 2);
        await honest.AssertAllDeliveredAsync();
    }

    [Fact]
    public async Task Guessing_secrets_from_one_address_is_throttled_while_devices_elsewhere_keep_publishing()
    {
        var throttledBefore = await fixture.MetricAsync(MqttRefusals, "reason=\"authentication-throttled\"");
        var codes = new List<byte>();

        await using var honest = await HonestDevices.StartAsync(Gateway);
        for (var guess = 0; guess < HostileGatewayFixture.MaxFailedAuthentications + 3; guess++)
        {
            using var connection = await RawConnection.OpenAsync("127.0.0.6", Gateway.MqttPort);
            await connection.SendAsync(RawMqtt.Connect($"guess-{guess}", "victim-device", $"guess-{guess}"));
            codes.Add((await connection.ReadAsync(4, CloseTimeout))[3]);
        }

        await honest.StopAndAssertAllAcknowledgedAsync();
        // 4: bad user name or password (checked); then 3: server unavailable (not checked at all).
        Assert.Equal([.. Enumerable.Repeat((byte)4, HostileGatewayFixture.MaxFailedAuthentications), 3, 3, 3], codes);
        await fixture.AssertMetricReachesAsync(MqttRefusals, "reason=\"authentication-throttled\"", throttledBefore + 3);
        await honest.AssertAllDeliveredAsync();
    }

    [Fact]
    public async Task Guessing_secrets_over_http_is_throttled_per_address_and_mqtt_guesses_count_against_the_same_address()
    {
        using var guesser = HttpFromAddress.Create("127.0.0.40", Gateway.Http.BaseAddress!);
        using var neighbour = HttpFromAddress.Create("127.0.0.41", Gateway.Http.BaseAddress!);
        using var mqttGuesser = HttpFromAddress.Create("127.0.0.42", Gateway.Http.BaseAddress!);
        var deviceId = MqttTestClient.NewDeviceId("http-guess");

        var statuses = new List<HttpStatusCode>();
        for (var guess = 0; guess < HostileGatewayFixture.MaxFailedAuthentications; guess++)
        {
            using var refused = await PostAsync(guesser, deviceId, new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{deviceId}:guess-{guess}"))));
            statuses.Add(refused.StatusCode);
        }

        // Once throttled, the address is refused whatever it sends, even a request that would pass: no secret is looked at.
        using var throttled = await PostAsync(guesser, deviceId, authorization: null);
        using var elsewhere = await PostAsync(neighbour, deviceId, authorization: null);
        for (var guess = 0; guess < HostileGatewayFixture.MaxFailedAuthentications; guess++)
        {
            using var connection = await RawConnection.OpenAsync("127.0.0.42", Gateway.MqttPort);
            await connection.SendAsync(RawMqtt.Connect($"mqtt-guess-{guess}", deviceId, $"guess-{guess}"));
            Assert.Equal(4, (await connection.ReadAsync(4, CloseTimeout))[3]);
        }

        using var afterMqttGuesses = await PostAsync(mqttGuesser, deviceId, authorization: null);

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, HostileGatewayFixture.MaxFailedAuthentications), statuses);
        await throttled.AssertProblemAsync(HttpStatusCode.TooManyRequests, "authentication-throttled");
        Assert.True(throttled.Headers.RetryAfter?.Delta > TimeSpan.Zero, "a throttled request must say when to come back");
        Assert.Equal(HttpStatusCode.Accepted, elsewhere.StatusCode);
        await afterMqttGuesses.AssertProblemAsync(HttpStatusCode.TooManyRequests, "authentication-throttled");
    }

    [Fact]
    public async Task A_connection_flood_is_cut_at_the_limit_and_silent_connections_and_tls_handshakes_time_out()
    {
        var limitBefore = await fixture.MetricAsync(MqttRefusals, "reason=\"connection-limit\"");
        var silentBefore = await fixture.MetricAsync(MqttRefusals, "reason=\"connect-not-completed\"");
        var handshakeBefore = await fixture.MetricAsync(MqttRefusals, "reason=\"tls-handshake-timeout\"");
        const int flood = HostileGatewayFixture.MaxMqttConnections + 20;

        await using var honest = await HonestDevices.StartAsync(Gateway);
        var connections = new List<RawConnection>();
        try
        {
            // TLS first, inside the limit: these must meet the handshake deadline, not the connection cap. The two
            // listeners accept on their own loops, so the flood waits until the TLS listener holds all five: else,
            // on a busy machine, the flood could take the last slots first and a TLS connection meet the cap instead.
            await Eventually.TrueAsync(async () => await fixture.MetricAsync(OpenConnections, OnTls) == 0, "no TLS connection of an earlier test still open");
            for (var i = 0; i < 5; i++)
            {
                connections.Add(await RawConnection.OpenAsync("127.0.0.7", fixture.TlsPort));
            }

            await fixture.AssertMetricReachesAsync(OpenConnections, OnTls, 5);

            // The flood comes from five addresses, each under the per-address cap, so it is the global cap that cuts it.
            for (var i = 0; i < flood; i++)
            {
                connections.Add(await RawConnection.OpenAsync($"127.0.0.{20 + (i % 5)}", Gateway.MqttPort));
            }

            // Nothing is sent: every connection must be closed by the server, over the limit at once, the rest on their timeouts.
            var closed = await Task.WhenAll(connections.Select(connection => connection.ReadUntilClosedAsync(CloseTimeout)));
            Assert.All(closed, outcome => Assert.True(outcome.Closed));
        }
        finally
        {
            connections.ForEach(connection => connection.Dispose());
        }

        await honest.StopAndAssertAllAcknowledgedAsync();
        // The honest device and the TLS handshakes hold connections too, so at least the flood past the limit was cut at accept.
        await fixture.AssertMetricReachesAsync(MqttRefusals, "reason=\"connection-limit\"", limitBefore + (flood - HostileGatewayFixture.MaxMqttConnections));
        await fixture.AssertMetricReachesAsync(MqttRefusals, "reason=\"connect-not-completed\"", silentBefore + 1);
        await fixture.AssertMetricReachesAsync(MqttRefusals, "reason=\"tls-handshake-timeout\"", handshakeBefore + 5);
        var (late, result) = await MqttTestClient.ConnectAsync(Gateway.MqttPort);
        using (late)
        {
            Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        }

        await honest.AssertAllDeliveredAsync();
    }

    [Fact]
    public async Task One_address_is_refused_past_its_connection_cap_while_other_addresses_still_connect()
    {
        var refusedBefore = await fixture.MetricAsync(MqttRefusals, "reason=\"address-connection-limit\"");
        var connections = new List<RawConnection>();
        try
        {
            for (var i = 0; i < HostileGatewayFixture.MaxMqttConnectionsPerAddress; i++)
            {
                var connection = await RawConnection.OpenAsync("127.0.0.30", Gateway.MqttPort);
                connections.Add(connection);
                await connection.SendAsync(RawMqtt.Connect($"capped-{i}"));
                Assert.Equal([0x20, 2, 0, 0], await connection.ReadAsync(4, CloseTimeout));
            }

            using var extra = await RawConnection.OpenAsync("127.0.0.30", Gateway.MqttPort);
            await extra.SendAsync(RawMqtt.Connect("capped-extra"));
            var (received, closed) = await extra.ReadUntilClosedAsync(CloseTimeout);
            Assert.True(closed, "the connection past the address cap was left open");
            Assert.Empty(received);

            using var elsewhere = await RawConnection.OpenAsync("127.0.0.31", Gateway.MqttPort);
            await elsewhere.SendAsync(RawMqtt.Connect("elsewhere"));
            Assert.Equal([0x20, 2, 0, 0], await elsewhere.ReadAsync(4, CloseTimeout));
        }
        finally
        {
            connections.ForEach(connection => connection.Dispose());
        }

        await fixture.AssertMetricReachesAsync(MqttRefusals, "reason=\"address-connection-limit\"", refusedBefore + 1);
    }

    [Fact]
    public async Task Slow_huge_and_deeply_nested_http_requests_are_refused_by_limits_and_counted()
    {
        var jsonBefore = await fixture.MetricAsync("gateway_ingest_refusals_total", "error_type=\"malformed-json\"");

        await using var honest = await HonestDevices.StartAsync(Gateway);
        // Slowloris: headers that never end, one more line every half second.
        var slowHeaders = Enumerable.Range(0, 5).Select(async i =>
        {
            using var connection = await RawConnection.OpenAsync("127.0.0.8", Gateway.Http.BaseAddress!.Port);
            await connection.SendAsync($"POST /v1/devices/slow-{i}/telemetry HTTP/1.1\r\nHost: localhost\r\n");
            var started = DateTime.UtcNow;
            while (DateTime.UtcNow - started < CloseTimeout)
            {
                await connection.SendAsync("X-Slow: 1\r\n");
                var (_, closed) = await connection.ReadUntilClosedAsync(TimeSpan.FromMilliseconds(500));
                if (closed)
                {
                    return true;
                }
            }

            return false;
        });
        // A slow body: announced, then sent far below the minimum data rate.
        var slowBody = Enumerable.Range(0, 3).Select(async i =>
        {
            using var connection = await RawConnection.OpenAsync("127.0.0.8", Gateway.Http.BaseAddress!.Port);
            await connection.SendAsync($"POST /v1/devices/slow-body-{i}/telemetry HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[");
            var started = DateTime.UtcNow;
            while (DateTime.UtcNow - started < CloseTimeout)
            {
                await connection.SendAsync("1");
                var (_, closed) = await connection.ReadUntilClosedAsync(TimeSpan.FromMilliseconds(500));
                if (closed)
                {
                    return true;
                }
            }

            return false;
        });
        var cutOff = await Task.WhenAll(slowHeaders.Concat(slowBody));

        using var hugeHeader = new HttpRequestMessage(HttpMethod.Post, $"/v1/devices/{MqttTestClient.NewDeviceId()}/telemetry")
        {
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };
        hugeHeader.Headers.Add("X-Huge", new string('h', 64 * 1024));
        using var hugeHeaderResponse = await Gateway.Http.SendAsync(hugeHeader);

        using var manyHeaders = new HttpRequestMessage(HttpMethod.Post, $"/v1/devices/{MqttTestClient.NewDeviceId()}/telemetry")
        {
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };
        for (var i = 0; i < 200; i++)
        {
            manyHeaders.Headers.Add($"X-Many-{i}", "1");
        }

        using var manyHeadersResponse = await Gateway.Http.SendAsync(manyHeaders);
        using var deepJson = await Gateway.Http.PostJsonAsync(MqttTestClient.NewDeviceId(), new string('[', 100_000) + new string(']', 100_000));
        await honest.StopAndAssertAllAcknowledgedAsync();

        Assert.All(cutOff, Assert.True);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, hugeHeaderResponse.StatusCode);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, manyHeadersResponse.StatusCode);
        Assert.True(deepJson.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge, $"deep JSON: {(int)deepJson.StatusCode}");
        await fixture.AssertMetricReachesAsync("gateway_ingest_refusals_total", "error_type=\"malformed-json\"", jsonBefore + 1);
        await fixture.AssertMetricReachesAsync("kestrel_connection_duration_seconds_count", "error_type=\"request_headers_timeout\"", 5);
        await fixture.AssertMetricReachesAsync("kestrel_connection_duration_seconds_count", "error_type=\"min_request_body_data_rate\"", 3);
        await fixture.AssertMetricReachesAsync("kestrel_connection_duration_seconds_count", "error_type=\"max_request_headers_total_size_exceeded\"", 1);
        await fixture.AssertMetricReachesAsync("kestrel_connection_duration_seconds_count", "error_type=\"max_request_header_count_exceeded\"", 1);
        await honest.AssertAllDeliveredAsync();
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(1, 512)];
        random.NextBytes(bytes);
        return bytes;
    }

    // Flips, drops or inserts a few bytes of a valid exchange, so most of it still parses as far as the damage.
    private static byte[] Mutate(byte[] valid, Random random)
    {
        var bytes = valid.ToList();
        for (var i = random.Next(1, 5); i > 0; i--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(3))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes.RemoveAt(at);
                    break;
                default:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
            }
        }

        return [.. bytes];
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string deviceId, AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/devices/{deviceId}/telemetry")
        {
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = authorization;
        return await client.SendAsync(request);
    }
}
