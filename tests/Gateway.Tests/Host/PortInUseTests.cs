using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Host;

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
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var (exitCode, output) = await GatewayProcess.RunToExitAsync(directory.Path, new Dictionary<string, string> { [key] = port.ToString(CultureInfo.InvariantCulture) });

        Assert.True(exitCode == 2, output);
        var errorLine = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => line.StartsWith("Start-up failed:", StringComparison.Ordinal));
        Assert.Contains(string.Format(CultureInfo.InvariantCulture, named, port), errorLine);
    }
}
