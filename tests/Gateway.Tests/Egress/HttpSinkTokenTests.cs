using Gateway.Sinks;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;

namespace Gateway.Tests.Egress;

/// <summary>The http sink's secret for clouds that want one: from a file, in the header the cloud asks for, renewed with the file.</summary>
public sealed class HttpSinkTokenTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private TestCertificates _certificates = null!;
    private CloudReceiver _cloud = null!;

    public async Task InitializeAsync()
    {
        _certificates = new TestCertificates(_directory.Combine("certificates"));
        _cloud = await CloudReceiver.StartAsync(_certificates.Server);
    }

    public async Task DisposeAsync()
    {
        await _cloud.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task A_bearer_token_from_a_file_goes_with_every_request_and_a_renewed_file_is_used_from_the_next_batch()
    {
        var tokenFile = _directory.Combine("cloud-token");
        await File.WriteAllTextAsync(tokenFile, "first-token\n");
        using var sink = new HttpSink(Options(tokenFile, header: null));

        Assert.Equal(DeliveryResult.Delivered, await sink.DeliverAsync(Batch("a"), CancellationToken.None));
        await File.WriteAllTextAsync(tokenFile + ".new", "second-token");
        File.Move(tokenFile + ".new", tokenFile, overwrite: true);
        Assert.Equal(DeliveryResult.Delivered, await sink.DeliverAsync(Batch("b"), CancellationToken.None));

        Assert.Equal(["Bearer first-token", "Bearer second-token"], _cloud.Requests.Select(request => request.Headers["authorization"]));
    }

    [Fact]
    public async Task A_named_header_carries_the_secret_as_it_is()
    {
        var tokenFile = _directory.Combine("api-key");
        await File.WriteAllTextAsync(tokenFile, "key-0123");
        using var sink = new HttpSink(Options(tokenFile, header: "x-api-key"));

        Assert.Equal(DeliveryResult.Delivered, await sink.DeliverAsync(Batch("a"), CancellationToken.None));

        var request = Assert.Single(_cloud.Requests);
        Assert.Equal("key-0123", request.Headers["x-api-key"]);
        Assert.False(request.Headers.ContainsKey("authorization"));
    }

    [Fact]
    public async Task With_a_token_a_401_or_403_is_retried_not_dead_lettered_and_the_secret_is_in_no_error()
    {
        var tokenFile = _directory.Combine("expired-token");
        await File.WriteAllTextAsync(tokenFile, "expired-token-value");
        using var sink = new HttpSink(Options(tokenFile, header: null));

        foreach (var status in new[] { 401, 403 })
        {
            _cloud.Respond = _ => (status, null);
            var result = await sink.DeliverAsync(Batch("a"), CancellationToken.None);

            Assert.Equal(DeliveryOutcome.Retry, result.Outcome);
            Assert.DoesNotContain("expired-token-value", result.Error, StringComparison.Ordinal);
        }

        // Without a token a 401 is the records' fault as before: dead letters.
        using var plain = new HttpSink(Options(tokenFile: null, header: null));
        _cloud.Respond = _ => (401, null);
        Assert.Equal(DeliveryOutcome.Permanent, (await plain.DeliverAsync(Batch("a"), CancellationToken.None)).Outcome);
    }

    private SinkOptions Options(string? tokenFile, string? header)
    {
        var options = new SinkOptions { Name = "cloud", Type = HttpSink.TypeName, Url = _cloud.Url, CaCertificatePath = _certificates.CaPath, TokenFile = tokenFile };
        if (header is not null)
        {
            options.TokenHeader = header;
        }

        return options;
    }

    private static List<WalRecord> Batch(string deviceId) =>
    [
        new WalRecord
        {
            DeliveryId = 1, MessageId = $"gw:{deviceId}:1", DeviceId = deviceId, Sequence = 1, ReceivedAt = DateTimeOffset.UnixEpoch,
            ContentType = MediaTypes.Json, Payload = "{}"u8.ToArray(), Topic = $"devices/{deviceId}/telemetry",
        },
    ];
}
