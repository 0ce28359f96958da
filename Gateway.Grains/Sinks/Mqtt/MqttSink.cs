using System.Text;
using Gateway.Wal;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;

namespace Gateway.Sinks;

/// <summary>
/// Publishes each record to an upstream MQTT broker with QoS 1 and counts it delivered only when the
/// broker's PUBACK arrives. MQTT 5 user properties carry the message id and trace context. Records of a
/// batch are published one after another, so the broker sees them in WAL order. A lost connection is
/// re-established on the next attempt, which the partition's backoff spaces out.
/// </summary>
public sealed class MqttSink : ISink, IDisposable
{
    /// <summary>The type name in configuration.</summary>
    public const string TypeName = "mqtt";

    /// <summary>User property carrying the gateway's message id.</summary>
    public const string MessageIdProperty = "message-id";

    /// <summary>User property carrying the W3C trace context.</summary>
    public const string TraceParentProperty = "traceparent";

    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly MqttClientOptions _clientOptions;
    private readonly string _topicTemplate;

    /// <summary>Creates the sink from its options (validated at start).</summary>
    public MqttSink(SinkOptions options, string gatewayId)
    {
        ArgumentNullException.ThrowIfNull(options);
        Name = options.Name;
        _topicTemplate = options.Topic;
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(options.Host, options.Port)
            .WithClientId(options.ClientId ?? $"{gatewayId}-{options.Name}")
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(false)
            .WithTimeout(TimeSpan.FromSeconds(10));
        if (options.Username is not null)
        {
            builder.WithCredentials(options.Username, options.Password);
        }

        if (!options.AllowInsecure)
        {
            var tls = EgressTls.From(options);
            builder.WithTlsOptions(o =>
            {
                o.UseTls()
                    .WithSslProtocols(EgressTls.Protocols)
                    .WithTargetHost(options.Host)
                    .WithCertificateValidationHandler(e => tls.ValidateServerCertificate(e.Certificate, e.Chain, e.SslPolicyErrors));
                if (tls.ClientCertificate is not null)
                {
                    o.WithClientCertificates([tls.ClientCertificate]);
                }
            });
        }

        _clientOptions = builder.Build();
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public async Task<DeliveryResult> DeliverAsync(IReadOnlyList<WalRecord> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        try
        {
            await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
            foreach (var record in batch)
            {
                var result = await _client.PublishAsync(ToApplicationMessage(record), cancellationToken).ConfigureAwait(false);
                if (result.ReasonCode is not (MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers))
                {
                    var error = $"The upstream broker refused {record.MessageId}: {result.ReasonCode} {result.ReasonString}";
                    return IsPermanent(result.ReasonCode) ? DeliveryResult.Permanent(error) : DeliveryResult.Retry(error);
                }
            }

            return DeliveryResult.Delivered;
        }
        catch (Exception error) when (error is MqttCommunicationException or InvalidOperationException)
        {
            return DeliveryResult.Retry($"{_clientOptions.ChannelOptions}: {error.Message}");
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _client.Dispose();
        _connectLock.Dispose();
    }

    private async Task EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        if (_client.IsConnected)
        {
            return;
        }

        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_client.IsConnected)
            {
                await _client.ConnectAsync(_clientOptions, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private MqttApplicationMessage ToApplicationMessage(WalRecord record)
    {
        var builder = new MqttApplicationMessageBuilder()
            .WithTopic(_topicTemplate.Replace("{deviceId}", record.DeviceId, StringComparison.Ordinal).Replace("{topic}", record.Topic, StringComparison.Ordinal))
            .WithPayload(record.Payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithContentType(record.ContentType)
            .WithUserProperty(MessageIdProperty, Encoding.UTF8.GetBytes(record.MessageId).AsMemory());
        if (record.TraceParent is not null)
        {
            builder.WithUserProperty(TraceParentProperty, Encoding.UTF8.GetBytes(record.TraceParent).AsMemory());
        }

        return builder.Build();
    }

    // The broker will refuse these again on every retry.
    private static bool IsPermanent(MqttClientPublishReasonCode code) =>
        code is MqttClientPublishReasonCode.NotAuthorized or MqttClientPublishReasonCode.TopicNameInvalid or MqttClientPublishReasonCode.PayloadFormatInvalid;
}
