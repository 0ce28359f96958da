using System.Globalization;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Deploy;

/// <summary>deploy/certs.sh end to end: its certificates secure the gateway's MQTT and HTTPS listeners for mosquitto_pub and curl, with mutual TLS.</summary>
public sealed class CertificateScriptTests
{
    [RequiresToolsFact("openssl", "mosquitto_pub", "curl", "bash")]
    public async Task Certificates_from_the_script_carry_mosquitto_pub_and_curl_messages_over_mutual_tls_and_nothing_without_them()
    {
        using var folder = new TempDirectory();
        var certificates = folder.Combine("certs");
        var (scriptExit, scriptOutput) = await ExternalProgram.RunAsync("bash", [RepositoryFiles.PathOf("deploy", "certs.sh"), certificates, "sensor-7"]);
        Assert.True(scriptExit == 0, scriptOutput);
        var data = folder.Combine("data");
        Directory.CreateDirectory(data);
        var tlsPort = FreePort.Next();
        var httpsPort = FreePort.Next();
        await using var gateway = await GatewayProcess.StartAsync(data, new Dictionary<string, string>
        {
            ["Gateway:Mqtt:TlsPort"] = tlsPort.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Mqtt:TlsBindAddress"] = "127.0.0.1",
            ["Gateway:Mqtt:CertificatePath"] = Path.Combine(certificates, "gateway.crt.pem"),
            ["Gateway:Mqtt:CertificateKeyPath"] = Path.Combine(certificates, "gateway.key.pem"),
            ["Gateway:Mqtt:ClientCaPath"] = Path.Combine(certificates, "ca.crt.pem"),
            ["Gateway:Mqtt:RequireClientCertificate"] = "true",
            ["Gateway:Http:TlsPort"] = httpsPort.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Http:TlsBindAddress"] = "127.0.0.1",
            ["Gateway:Http:CertificatePath"] = Path.Combine(certificates, "gateway.crt.pem"),
            ["Gateway:Http:CertificateKeyPath"] = Path.Combine(certificates, "gateway.key.pem"),
            ["Gateway:Http:ClientCaPath"] = Path.Combine(certificates, "ca.crt.pem"),
            ["Gateway:Http:RequireClientCertificate"] = "true",
        });
        var telemetryUrl = new Uri($"https://localhost:{httpsPort}/v1/devices/sensor-7/telemetry");
        string[] trust = ["--cacert", Path.Combine(certificates, "ca.crt.pem")];
        string[] tls = ["-h", "localhost", "-p", tlsPort.ToString(CultureInfo.InvariantCulture), "--cafile", Path.Combine(certificates, "ca.crt.pem")];

        var (sent, sentOutput) = await ExternalProgram.RunAsync("mosquitto_pub",
            [.. tls, "--cert", Path.Combine(certificates, "devices", "sensor-7.crt.pem"), "--key", Path.Combine(certificates, "devices", "sensor-7.key.pem"),
             "-V", "mqttv5", "-q", "1", "-i", "sensor-7-pub", "-t", "devices/sensor-7/telemetry", "-m", "{\"temperature\": 21.5}"]);
        var (refused, _) = await ExternalProgram.RunAsync("mosquitto_pub",
            [.. tls, "-V", "mqttv5", "-q", "1", "-i", "no-certificate", "-t", "devices/sensor-7/telemetry", "-m", "{\"temperature\": 99}"]);

        var posted = await Curl.PostJsonAsync(telemetryUrl, "{\"temperature\": 21.6}",
            [.. trust, "--cert", Path.Combine(certificates, "devices", "sensor-7.crt.pem"), "--key", Path.Combine(certificates, "devices", "sensor-7.key.pem")]);
        var unposted = await Curl.PostJsonAsync(telemetryUrl, "{\"temperature\": 99}", trust);

        Assert.True(sent == 0, $"mosquitto_pub with the device certificate failed ({sent}): {sentOutput}\n{gateway.Output}");
        Assert.NotEqual(0, refused);
        Assert.True(posted.Status == 202, $"curl with the device certificate: {posted.Status} {posted.Body}{posted.Errors}");
        Assert.Equal(0, unposted.Status);
        await Eventually.TrueAsync(() => SinkFiles.Read(gateway.SinkFolder).Count(line => line.DeviceId == "sensor-7") >= 2, "both messages to reach the sink");
        Assert.Equal(2, SinkFiles.Read(gateway.SinkFolder).Count(line => line.DeviceId == "sensor-7"));
    }
}
