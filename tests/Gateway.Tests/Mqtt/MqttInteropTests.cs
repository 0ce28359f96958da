using System.Globalization;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Mqtt;

/// <summary>Third-party clients from Debian (mosquitto_pub, paho-mqtt for Python) against the gateway's broker.</summary>
[Collection(MqttClusterCollection.Name)]
public sealed class MqttInteropTests(MqttClusterFixture fixture)
{
    private const int Messages = 20;

    [RequiresToolsTheory("mosquitto_pub")]
    [InlineData("mqttv311", "1")]
    [InlineData("mqttv5", "1")]
    [InlineData("mqttv311", "0")]
    [InlineData("mqttv5", "0")]
    public async Task Mosquitto_pub_publishes_with_a_device_secret_and_every_message_reaches_the_sink_in_order(string protocol, string qos)
    {
        var deviceId = MqttTestClient.NewDeviceId("mosq");
        var secret = await fixture.ProvisionAsync(deviceId);

        var result = await MosquittoPubAsync(["-p", Port(fixture.Port), "-V", protocol, "-q", qos, "-u", deviceId, "-P", secret], deviceId);

        Assert.True(result.ExitCode == 0, result.Output);
        await AssertDeliveredInOrderAsync(deviceId);
    }

    [RequiresToolsTheory("mosquitto_pub")]
    [InlineData("mqttv311")]
    [InlineData("mqttv5")]
    public async Task Mosquitto_pub_publishes_over_tls_with_a_secret_and_with_a_client_certificate(string protocol)
    {
        var withSecret = MqttTestClient.NewDeviceId("mosq-tls");
        var secret = await fixture.ProvisionAsync(withSecret);
        var withCertificate = MqttTestClient.NewDeviceId("mosq-mtls");
        var certificate = fixture.Certificates.Client(withCertificate);
        string[] tls = ["-p", Port(fixture.TlsPort), "-V", protocol, "-q", "1", "--cafile", fixture.Certificates.CaPath, "--tls-version", "tlsv1.2"];

        var bySecret = await MosquittoPubAsync([.. tls, "-u", withSecret, "-P", secret], withSecret);
        var byCertificate = await MosquittoPubAsync([.. tls, "--cert", certificate.CertificatePath, "--key", certificate.KeyPath], withCertificate);

        Assert.True(bySecret.ExitCode == 0, bySecret.Output);
        Assert.True(byCertificate.ExitCode == 0, byCertificate.Output);
        await AssertDeliveredInOrderAsync(withSecret);
        await AssertDeliveredInOrderAsync(withCertificate);
    }

    [RequiresToolsTheory("mosquitto_pub")]
    [InlineData("mqttv311")]
    [InlineData("mqttv5")]
    public async Task Mosquitto_pub_is_refused_with_a_bad_password_an_unknown_certificate_or_as_another_device(string protocol)
    {
        var deviceId = MqttTestClient.NewDeviceId("mosq-bad");
        var secret = await fixture.ProvisionAsync(deviceId);
        var victim = MqttTestClient.NewDeviceId("victim");
        var untrusted = fixture.Certificates.Untrusted(victim);

        var badPassword = await MosquittoPubOneAsync(["-p", Port(fixture.Port), "-V", protocol, "-u", deviceId, "-P", secret + "x"], deviceId);
        var unknownCertificate = await MosquittoPubOneAsync(["-p", Port(fixture.TlsPort), "-V", protocol, "--cafile", fixture.Certificates.CaPath,
            "--cert", untrusted.CertificatePath, "--key", untrusted.KeyPath], victim);
        var impersonation = await MosquittoPubOneAsync(["-p", Port(fixture.Port), "-V", protocol, "-u", deviceId, "-P", secret], victim);

        Assert.NotEqual(0, badPassword.ExitCode);
        Assert.Contains(protocol == "mqttv5" ? "Bad User Name or Password" : "bad user name or password", badPassword.Output, StringComparison.OrdinalIgnoreCase);
        Assert.NotEqual(0, unknownCertificate.ExitCode);
        if (protocol == "mqttv5")
        {
            // mosquitto_pub exits 0 after a refused PUBACK, but reports the reason code.
            Assert.Contains("Not authorized", impersonation.Output, StringComparison.OrdinalIgnoreCase);
        }
        else
        {
            // No PUBACK for MQTT 3.1.1: the connection is closed and the publish is never confirmed.
            Assert.NotEqual(0, impersonation.ExitCode);
        }

        Assert.Equal(0, fixture.Stored(deviceId));
        Assert.Equal(0, fixture.Stored(victim));
    }

    [RequiresToolsTheory("python3")]
    [InlineData("311")]
    [InlineData("5")]
    public async Task Paho_publishes_qos1_and_every_acknowledged_message_reaches_the_sink_in_order(string protocol)
    {
        var deviceId = MqttTestClient.NewDeviceId("paho");
        var secret = await fixture.ProvisionAsync(deviceId);

        var result = await ExternalProgram.RunAsync(DebianPython, ["-c", PahoScript, Port(fixture.Port), deviceId, secret, protocol, Messages.ToString(CultureInfo.InvariantCulture)]);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains($"acknowledged {Messages}", result.Output);
        await AssertDeliveredInOrderAsync(deviceId);
    }

    // Debian's interpreter, which has python3-paho-mqtt, even when another python3 comes first on PATH.
    private static string DebianPython => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    private const string PahoScript = """
        import json, sys
        import paho.mqtt.client as mqtt
        port, device, secret, version, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
        client = mqtt.Client(client_id="paho-" + device, protocol=mqtt.MQTTv5 if version == "5" else mqtt.MQTTv311)
        client.username_pw_set(device, secret)
        client.connect("127.0.0.1", port)
        client.loop_start()
        acknowledged = 0
        for n in range(count):
            info = client.publish("devices/%s/telemetry" % device, json.dumps({"n": n}), qos=1)
            info.wait_for_publish(timeout=10)
            if info.is_published():
                acknowledged += 1
        client.disconnect()
        client.loop_stop()
        print("acknowledged %d" % acknowledged)
        """;

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static Task<(int ExitCode, string Output)> MosquittoPubAsync(string[] arguments, string deviceId)
    {
        // -l: one message per input line, on one connection, in order.
        var lines = string.Concat(Enumerable.Range(0, Messages).Select(n => $$"""{"n":{{n}}}""" + "\n"));
        return ExternalProgram.RunAsync("mosquitto_pub",
            ["-h", "127.0.0.1", "-i", "mosq-" + Guid.NewGuid().ToString("N")[..8], "-t", $"devices/{deviceId}/telemetry", "-l", .. arguments], lines);
    }

    // -m: one QoS 1 message; unlike -l, a refused client gives up instead of reconnecting.
    private static Task<(int ExitCode, string Output)> MosquittoPubOneAsync(string[] arguments, string deviceId) =>
        ExternalProgram.RunAsync("mosquitto_pub",
            ["-h", "127.0.0.1", "-i", "mosq-" + Guid.NewGuid().ToString("N")[..8], "-t", $"devices/{deviceId}/telemetry", "-q", "1", "-m", "{}", .. arguments],
            timeout: TimeSpan.FromSeconds(15));

    private async Task AssertDeliveredInOrderAsync(string deviceId)
    {
        List<SinkLine> lines = [];
        await Eventually.TrueAsync(() => (lines = fixture.Delivered(deviceId)).Count >= Messages, $"{Messages} messages of {deviceId} in the sink");
        Assert.Equal(Enumerable.Range(0, Messages), lines.Select(line => line.Line.GetProperty("payload").GetProperty("n").GetInt32()));
    }
}
