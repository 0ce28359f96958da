using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Host;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Gateway:Wal:HighWaterMessages", "0", "Gateway:Wal:HighWaterMessages")]
    [InlineData("Gateway:Delivery:BatchSize", "lots", "Gateway:Delivery:BatchSize")]
    [InlineData("Gateway:Sinks:0:Type", "carrier-pigeon", "Gateway:Sinks:0:Type")]
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

public sealed class PortInUseTests
{
    [Theory]
    [InlineData("Gateway:Mqtt:Port", "127.0.0.1:{0}")]
    [InlineData("Gateway:Http:Port", "127.0.0.1:{0}")]
    [InlineData("Gateway:Operations:Port", "127.0.0.1:{0}")]
    [InlineData("Gateway:Orleans:SiloPort", "Gateway:Orleans:SiloPort")]
    public async Task A_port_another_process_holds_stops_the_gateway_with_one_line_naming_it(string key, string named)
    {
        using var directory = new TempDirectory();
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;

        var (exitCode, output) = await GatewayProcess.RunToExitAsync(directory.Path, new Dictionary<string, string> { [key] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        Assert.True(exitCode == 2, output);
        var errorLine = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => line.StartsWith("Start-up failed:", StringComparison.Ordinal));
        Assert.Contains(string.Format(System.Globalization.CultureInfo.InvariantCulture, named, port), errorLine);
    }
}
