using System.Collections.Concurrent;
using System.Text;
using Gateway.Sinks;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;
using MQTTnet;
using MQTTnet.Formatter;

namespace Gateway.Tests.Egress;

/// <summary>The mqtt sink against a real mosquitto broker that requires mutual TLS.</summary>
public sealed class MqttSinkTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private readonly ConcurrentQueue<MqttApplicationMessage> _received = new();
    private TestCertificates _certificates = null!;
    private ClientCertificate _gateway = null!;
    private MosquittoBroker _broker = null!;
    private IMqttClient _subscriber = null!;

    public async Task InitializeAsync()
    {
        if (!ExternalTools.IsInstalled("mosquitto") && !ExternalTools.InContinuousIntegration)
        {
            return;
        }

        _certificates = new TestCertificates(_directory.Path);
        _gateway = _certificates.Client("gateway");
        _broker = await MosquittoBroker.StartAsync(_directory.Path, $"""
            cafile {_certificates.CaPath}
            certfile {_certificates.ServerCertificatePath}
            keyfile {_certificates.ServerKeyPath}
            require_certificate true
            use_identity_as_username true
            """);
        _subscriber = await ConnectSubscriberAsync();
    }

    public async Task DisposeAsync()
    {
        _subscriber?.Dispose();
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }

        _directory.Dispose();
    }

    private SinkOptions Options(string? caPath = null) => new()
    {
        Name = "upstream",
        Type = MqttSink.TypeName,
        Host = "localhost",
        Port = _broker.Port,
        Topic = "upstream/{deviceId}",
        CaCertificatePath = caPath ?? _certificates.CaPath,
        ClientCertificatePath = _gateway.CertificatePath,
        ClientKeyPath = _gateway.KeyPath,
    };

    private static WalRecord Record(string deviceId, long sequence) => new()
    {
        DeliveryId = sequence,
        MessageId = $"gateway:{deviceId}:{sequence}",
        DeviceId = deviceId,
        Sequence = sequence,
        ReceivedAt = DateTimeOffset.UtcNow,
        ContentType = MediaTypes.Json,
        Payload = Encoding.UTF8.GetBytes($$"""{"n":{{sequence}}}"""),
        TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        Topic = $"devices/{deviceId}/telemetry",
    };

    private static string? UserProperty(MqttApplicationMessage message, string name) =>
        message.UserProperties?.FirstOrDefault(p => p.Name == name) is { } property ? Encoding.UTF8.GetString(property.ValueBuffer.Span) : null;

    private async Task<IMqttClient> ConnectSubscriberAsync()
    {
        var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            _received.Enqueue(e.ApplicationMessage);
            return Task.CompletedTask;
        };
        var subscriber = _certificates.Client("subscriber");
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("localhost", _broker.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithTlsOptions(o => o.UseTls().WithTrustChain([_certificates.Authority]).WithClientCertificates([subscriber.Certificate]))
            .Build();
        await client.ConnectAsync(options);
        await client.SubscribeAsync("upstream/#", MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);
        return client;
    }

    [RequiresToolsFact("mosquitto")]
    public async Task Records_are_published_in_order_over_mutual_tls_with_message_id_and_trace_context()
    {
        using var sink = new MqttSink(Options(), "gateway");

        var result = await sink.DeliverAsync([Record("pump-1", 1), Record("pump-1", 2), Record("pump-1", 3)], CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        await Eventually.TrueAsync(() => _received.Count == 3, "three messages at the subscriber");
        var messages = _received.ToList();
        Assert.All(messages, m => Assert.Equal("upstream/pump-1", m.Topic));
        Assert.Equal(["gateway:pump-1:1", "gateway:pump-1:2", "gateway:pump-1:3"], messages.Select(m => UserProperty(m, MqttSink.MessageIdProperty)));
        Assert.All(messages, m => Assert.Equal("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", UserProperty(m, MqttSink.TraceParentProperty)));
        Assert.Equal("""{"n":2}""", Encoding.UTF8.GetString(messages[1].Payload));
    }

    [RequiresToolsFact("mosquitto")]
    public async Task A_broker_outage_is_a_retry_and_the_sink_reconnects_when_it_returns()
    {
        using var sink = new MqttSink(Options(), "gateway");
        Assert.Equal(DeliveryOutcome.Delivered, (await sink.DeliverAsync([Record("pump-2", 1)], CancellationToken.None)).Outcome);

        await _broker.StopAsync();
        var during = await sink.DeliverAsync([Record("pump-2", 2)], CancellationToken.None);
        Assert.Equal(DeliveryOutcome.Retry, during.Outcome);

        await _broker.StartAsync();
        _subscriber.Dispose();
        _subscriber = await ConnectSubscriberAsync();
        var after = await sink.DeliverAsync([Record("pump-2", 2)], CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Delivered, after.Outcome);
        await Eventually.TrueAsync(() => _received.Any(m => UserProperty(m, MqttSink.MessageIdProperty) == "gateway:pump-2:2"), "the retried record at the subscriber");
    }

    [RequiresToolsFact("mosquitto")]
    public async Task A_broker_certificate_from_another_authority_is_refused()
    {
        using var otherDirectory = new TempDirectory();
        var stranger = new TestCertificates(otherDirectory.Path);
        using var sink = new MqttSink(Options(stranger.CaPath), "gateway");

        var result = await sink.DeliverAsync([Record("pump-3", 1)], CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Retry, result.Outcome);
        Assert.DoesNotContain(_received, m => UserProperty(m, MqttSink.MessageIdProperty) == "gateway:pump-3:1");
    }
}
