using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Gateway.Tests.Mqtt;

/// <summary>MQTTnet clients for the tests, with short timeouts so a missing answer fails fast.</summary>
public static class MqttTestClient
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static string NewDeviceId(string prefix = "mqtt") => $"{prefix}-{Guid.NewGuid().ToString("N")[..12]}";

    /// <summary>Connects and returns the client with the CONNACK result (the client is connected only on success).</summary>
    public static async Task<(IMqttClient Client, MqttClientConnectResult Result)> ConnectAsync(
        int port,
        MqttProtocolVersion protocol = MqttProtocolVersion.V500,
        string? userName = null,
        string? password = null,
        string? clientId = null,
        bool tls = false,
        string? caPath = null,
        ClientCertificate? certificate = null)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(protocol)
            .WithClientId(clientId ?? NewDeviceId("client"))
            .WithCleanSession()
            .WithTimeout(Timeout);
        if (userName is not null)
        {
            builder.WithCredentials(userName, password);
        }

        if (tls)
        {
            builder.WithTlsOptions(options =>
            {
                options.UseTls().WithTargetHost("localhost");
                if (caPath is not null)
                {
                    var trust = new X509Certificate2Collection();
                    trust.ImportFromPemFile(caPath);
                    options.WithTrustChain(trust);
                }

                if (certificate is not null)
                {
                    options.WithClientCertificates([X509Certificate2.CreateFromPemFile(certificate.CertificatePath, certificate.KeyPath)]);
                }
            });
        }

        var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(builder.Build());
        return (client, result);
    }

    public static Task<MqttClientPublishResult> PublishAsync(
        this IMqttClient client, string topic, string payload, MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtLeastOnce,
        params (string Name, string Value)[] userProperties) =>
        client.PublishAsync(topic, Encoding.UTF8.GetBytes(payload), qos, userProperties);

    public static async Task<MqttClientPublishResult> PublishAsync(
        this IMqttClient client, string topic, byte[] payload, MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtLeastOnce,
        params (string Name, string Value)[] userProperties)
    {
        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(qos);
        foreach (var (name, value) in userProperties)
        {
            message.WithUserProperty(name, Encoding.UTF8.GetBytes(value).AsMemory());
        }

        using var timeout = new CancellationTokenSource(Timeout);
        return await client.PublishAsync(message.Build(), timeout.Token);
    }
}
