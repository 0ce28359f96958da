using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Mqtt;

public sealed class MqttConfigurationTests
{
    [Theory]
    [InlineData("Gateway:Mqtt:BindAddress", "0.0.0.0", "Gateway:Mqtt:AllowAnonymous")]
    [InlineData("Gateway:Mqtt:CertificatePath", "/nonexistent/server.pem", "Gateway:Mqtt:CertificatePath")]
    [InlineData("Gateway:Mqtt:RequireClientCertificate", "true", "Gateway:Mqtt:ClientCaPath")]
    [InlineData("Gateway:Mqtt:MaxPayloadBytes", "0", "Gateway:Mqtt:MaxPayloadBytes")]
    public async Task A_bad_mqtt_setting_stops_the_gateway_with_one_line_naming_the_key(string key, string value, string named)
    {
        using var directory = new TempDirectory();

        var (exitCode, output) = await GatewayProcess.RunToExitAsync(directory.Path, new Dictionary<string, string> { [key] = value });

        Assert.Equal(2, exitCode);
        var errorLine = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => line.StartsWith("Configuration error:", StringComparison.Ordinal));
        Assert.Contains(named, errorLine);
    }

    [Fact]
    public async Task The_gateway_warns_that_its_loopback_listener_accepts_anonymous_devices()
    {
        using var directory = new TempDirectory();
        await using var gateway = await GatewayProcess.StartAsync(directory.Path);

        await Eventually.TrueAsync(() => gateway.Output.Contains("accepts anonymous devices", StringComparison.Ordinal), "the anonymous-access warning in the log");
        Assert.Contains($"127.0.0.1:{gateway.MqttPort}", gateway.Output);
    }
}
