using System.Security.Cryptography.X509Certificates;
using System.Text;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Gateway.Load.Load;

/// <summary>
/// A device on MQTT 5 (MQTTnet): one connection, its device message id as the <c>message-id</c> user property,
/// so the gateway drops a retransmission after a reconnect instead of storing it twice.
/// </summary>
internal sealed class MqttDeviceLink(LoadSettings settings, string deviceId) : IDeviceLink
{
    private const string MessageIdProperty = "message-id";
    private IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly string _topic = $"devices/{deviceId}/telemetry";
    private readonly MqttQualityOfServiceLevel _qos =
        settings.Transport == Transport.MqttQos0 ? MqttQualityOfServiceLevel.AtMostOnce : MqttQualityOfServiceLevel.AtLeastOnce;

    public async Task<bool> ConnectAsync(CancellationToken cancellationToken)
    {
        // A fresh client per attempt: one whose connection just broke may still be tearing it down, and refuses
        // to connect until it has.
        _client.Dispose();
        _client = new MqttClientFactory().CreateMqttClient();
        try
        {
            var result = await _client.ConnectAsync(Options(), cancellationToken).ConfigureAwait(false);
            return result.ResultCode == MqttClientConnectResultCode.Success;
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // Cancelled mid-connect, MQTTnet may throw its own connect failure rather than OperationCanceledException:
            // the caller stops either way.
            cancellationToken.ThrowIfCancellationRequested();

            // Refused, reset, timed out, TLS failed: the gateway is not there yet. The caller tries again.
            return false;
        }
    }

    public async Task<SendOutcome> SendAsync(MessageKey key, byte[] payload, CancellationToken cancellationToken)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(_topic)
            .WithPayload(payload)
            .WithContentType("application/json")
            .WithUserProperty(MessageIdProperty, Encoding.UTF8.GetBytes(key.DeviceMessageId).AsMemory())
            .WithQualityOfServiceLevel(_qos)
            .Build();
        try
        {
            var result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            return result.IsSuccess ? SendOutcome.Acknowledged : SendOutcome.Refused;
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // Not connected, connection lost, no PUBACK within the timeout, or the run aborted: the outcome is unknown.
            return SendOutcome.Lost;
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private MqttClientOptions Options()
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(settings.Host, settings.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(deviceId)
            .WithCleanStart()
            .WithTimeout(settings.AckTimeout);
        if (settings.CaPath is not null || settings.CertificatePath is not null)
        {
            builder.WithTlsOptions(tls =>
            {
                tls.UseTls().WithTargetHost("localhost");
                if (settings.CaPath is not null)
                {
                    var trust = new X509Certificate2Collection();
                    trust.ImportFromPemFile(settings.CaPath);
                    tls.WithTrustChain(trust);
                }

                if (settings.CertificatePath is not null)
                {
                    tls.WithClientCertificates([X509Certificate2.CreateFromPemFile(settings.CertificatePath, settings.KeyPath)]);
                }
            });
        }

        if (settings.CertificatePath is not null)
        {
            // A certificate may name many devices; the user name says which one this connection is.
            builder.WithCredentials(deviceId);
        }

        return builder.Build();
    }
}
