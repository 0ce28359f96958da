using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Host;

[Collection(GatewayProcessCollection.Name)]
public sealed class HttpIngestTests(GatewayProcessFixture fixture)
{
    private HttpClient Http => fixture.Gateway.Http;

    private static string NewDeviceId() => "http-" + Guid.NewGuid().ToString("N")[..12];


    [Fact]
    public async Task A_json_object_is_one_message_and_202_carries_its_id_which_reaches_the_file_sink()
    {
        var deviceId = NewDeviceId();

        using var response = await Http.PostJsonAsync(deviceId, """{"temperature":21.5}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = Assert.Single(await response.AcceptedIdsAsync());
        Assert.Equal($"gateway:{deviceId}:1", id);
        await Eventually.TrueAsync(() => SinkFiles.Read(fixture.Gateway.SinkFolder).Any(line => line.MessageId == id), "the message in the sink");
        var line = SinkFiles.Read(fixture.Gateway.SinkFolder).Single(line => line.MessageId == id);
        Assert.Equal(21.5, line.Line.GetProperty("payload").GetProperty("temperature").GetDouble());
        Assert.Equal($"devices/{deviceId}/telemetry", line.Line.GetProperty("topic").GetString());
    }

    [Fact]
    public async Task A_subtopic_in_the_path_is_the_messages_topic_and_one_with_a_wildcard_is_refused()
    {
        var deviceId = NewDeviceId();

        using var response = await Http.PostAsync($"/v1/devices/{deviceId}/telemetry/engine/temperature",
            new StringContent("""{"celsius":80}""", Encoding.UTF8, "application/json"));
        using var wildcard = await Http.PostAsync($"/v1/devices/{deviceId}/telemetry/engine/%2B",
            new StringContent("""{"celsius":80}""", Encoding.UTF8, "application/json"));

        var id = Assert.Single(await response.AcceptedIdsAsync());
        await wildcard.AssertProblemAsync(HttpStatusCode.BadRequest, "topic-invalid");
        await Eventually.TrueAsync(() => SinkFiles.Read(fixture.Gateway.SinkFolder).Any(line => line.MessageId == id), "the message in the sink");
        var line = SinkFiles.Read(fixture.Gateway.SinkFolder).Single(line => line.MessageId == id);
        Assert.Equal($"devices/{deviceId}/telemetry/engine/temperature", line.Line.GetProperty("topic").GetString());
    }

    [Fact]
    public async Task With_anonymous_posting_on_credentials_that_are_sent_are_still_checked_and_the_log_warns_at_start()
    {
        var deviceId = NewDeviceId();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/devices/{deviceId}/telemetry")
        {
            Content = new StringContent("""{"n":1}""", Encoding.UTF8, "application/json"),
        };
        // The device has no secret: a client that sends one anyway is told so, not let in as anonymous.
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{deviceId}:guess")));

        using var response = await Http.SendAsync(request);

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "bad-credentials");
        Assert.Contains("accepts requests without credentials from loopback", fixture.Gateway.Output);
    }

    [Fact]
    public async Task A_json_array_is_a_batch_acknowledged_in_order()
    {
        var deviceId = NewDeviceId();

        using var response = await Http.PostJsonAsync(deviceId, """[{"n":1},{"n":2},{"n":3}]""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal([$"gateway:{deviceId}:1", $"gateway:{deviceId}:2", $"gateway:{deviceId}:3"], await response.AcceptedIdsAsync());
    }

    [Fact]
    public async Task Any_other_content_type_is_one_opaque_message_stored_as_sent()
    {
        var deviceId = NewDeviceId();
        var bytes = new byte[] { 0x00, 0xFF, 0x10, 0x80 };
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");

        using var response = await Http.PostAsync($"/v1/devices/{deviceId}/telemetry", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = Assert.Single(await response.AcceptedIdsAsync());
        await Eventually.TrueAsync(() => SinkFiles.Read(fixture.Gateway.SinkFolder).Any(line => line.MessageId == id), "the message in the sink");
        var line = SinkFiles.Read(fixture.Gateway.SinkFolder).Single(line => line.MessageId == id).Line;
        Assert.Equal(bytes, line.GetProperty("payloadBase64").GetBytesFromBase64());
        Assert.Equal("application/octet-stream", line.GetProperty("contentType").GetString());
    }

    [Fact]
    public async Task The_traceparent_header_is_kept_with_the_message()
    {
        var deviceId = NewDeviceId();
        const string traceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/devices/{deviceId}/telemetry")
        {
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", traceParent);

        using var response = await Http.SendAsync(request);
        var id = Assert.Single(await response.AcceptedIdsAsync());

        await Eventually.TrueAsync(() => SinkFiles.Read(fixture.Gateway.SinkFolder).Any(line => line.MessageId == id), "the message in the sink");
        Assert.Equal(traceParent, SinkFiles.Read(fixture.Gateway.SinkFolder).Single(line => line.MessageId == id).Line.GetProperty("traceparent").GetString());
    }

    [Fact]
    public async Task A_message_posted_without_traceparent_and_with_tracing_off_gets_a_trace_id_its_lifecycle_and_sink_record_share()
    {
        var deviceId = NewDeviceId();
        using var response = await Http.PostJsonAsync(deviceId, """{"n":1}""");
        var id = Assert.Single(await response.AcceptedIdsAsync());
        await Eventually.TrueAsync(() => SinkFiles.Read(fixture.Gateway.SinkFolder).Any(line => line.MessageId == id), "the message in the sink");

        using var admin = fixture.Gateway.GeneratedTokenAdmin();
        var lifecycle = JsonDocument.Parse(await admin.GetStringAsync($"/admin/v1/messages/{id}")).RootElement;
        var traceId = lifecycle.GetProperty("traceId").GetString();

        Assert.Matches("^[0-9a-f]{32}$", traceId);
        Assert.NotEqual(new string('0', 32), traceId);
        var stored = SinkFiles.Read(fixture.Gateway.SinkFolder).Single(line => line.MessageId == id).Line.GetProperty("traceparent").GetString()!;
        Assert.Equal(traceId, stored.Split('-')[1]);
        // No span of it was recorded, so it does not claim to be sampled.
        Assert.EndsWith("-00", stored, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"t":""", "malformed-json")]
    [InlineData("""[]""", "malformed-json")]
    [InlineData("""{} {}""", "malformed-json")]
    public async Task Malformed_json_is_400_problem_json(string body, string reason)
    {
        using var response = await Http.PostJsonAsync(NewDeviceId(), body);

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, reason);
    }

    [Fact]
    public async Task An_invalid_device_id_is_400()
    {
        using var response = await Http.PostJsonAsync("bad!id", "{}");

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-device-id");
    }

    [Fact]
    public async Task A_body_over_the_request_limit_is_413()
    {
        // Kestrel refuses the length up front and closes the connection; a client still sending the body would
        // see a broken pipe instead of the answer, so this one asks first, as a large upload should.
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/devices/{NewDeviceId()}/telemetry")
        {
            Content = new StringContent($$"""{"blob":"{{new string('x', 1_100_000)}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.ExpectContinue = true;
        using var response = await Http.SendAsync(request);

        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
    }

    [Fact]
    public async Task A_message_over_the_message_limit_is_413_and_nothing_is_stored()
    {
        var deviceId = NewDeviceId();

        using var response = await Http.PostJsonAsync(deviceId, $$"""[{"ok":1},{"blob":"{{new string('x', 300_000)}}"}]""");
        var problem = await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
        Assert.StartsWith("Message 1:", problem.GetProperty("detail").GetString());

        using var next = await Http.PostJsonAsync(deviceId, "{}");
        Assert.Equal($"gateway:{deviceId}:1", Assert.Single(await next.AcceptedIdsAsync()));
    }

    [Fact]
    public async Task A_form_body_or_a_compressed_body_is_415()
    {
        using var form = await Http.PostAsync($"/v1/devices/{NewDeviceId()}/telemetry", new FormUrlEncodedContent([new("t", "1")]));
        await form.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");

        using var gzip = new StringContent("{}", Encoding.UTF8, "application/json");
        gzip.Headers.ContentEncoding.Add("br");
        using var compressed = await Http.PostAsync($"/v1/devices/{NewDeviceId()}/telemetry", gzip);
        await compressed.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Fact]
    public async Task Ingest_is_not_served_on_the_operations_port_nor_health_on_the_ingest_port()
    {
        using var ingestOnOperations = await fixture.Gateway.Operations.PostJsonAsync(NewDeviceId(), "{}");
        using var healthOnIngest = await Http.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.NotFound, ingestOnOperations.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, healthOnIngest.StatusCode);
    }
}
