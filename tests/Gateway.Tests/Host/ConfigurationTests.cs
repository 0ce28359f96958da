using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Host;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Gateway:Wal:HighWaterMessages", "0", "Gateway:Wal:HighWaterMessages")]
    [InlineData("Gateway:Delivery:BatchSize", "lots", "Gateway:Delivery:BatchSize")]
    [InlineData("Gateway:Sinks:0:Type", "carrier-pigeon", "Gateway:Sinks:0:Type")]
    [InlineData("Gateway:Http:BindAddress", "0.0.0.0", "Gateway:Http:AllowAnonymous")]
    [InlineData("Gateway:Http:CertificatePath", "/nonexistent/server.pem", "Gateway:Http:CertificatePath")]
    [InlineData("Gateway:Http:RequireClientCertificate", "true", "Gateway:Http:ClientCaPath")]
    [InlineData("Gateway:Mqtt:MaxFailedAuthentications", "5", "Gateway:Authentication:MaxFailedAuthentications")]
    public async Task A_bad_value_stops_the_gateway_with_one_line_naming_the_key(string key, string value, string named)
    {
        using var directory = new TempDirectory();
        var settings = new Dictionary<string, string> { [key] = value };
        if (key.StartsWith("Gateway:Sinks:0", StringComparison.Ordinal))
        {
            settings["Gateway:Sinks:0:Name"] = "cloud";
        }

        var (exitCode, output) = await GatewayProcess.RunToExitAsync(directory.Path, settings);

        Assert.Equal(2, exitCode);
        var errorLine = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => line.StartsWith("Configuration error:", StringComparison.Ordinal));
        Assert.Contains(named, errorLine);
    }
}
