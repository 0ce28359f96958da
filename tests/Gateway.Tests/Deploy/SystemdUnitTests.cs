using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Deploy;

/// <summary>deploy/gateway.service: systemd accepts it, its sandbox is tight, and the gateway tells systemd when it is ready.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SystemdUnitTests
{
    private static readonly string UnitPath = RepositoryFiles.PathOf("deploy", "gateway.service");

    [RequiresToolsFact("systemd-analyze")]
    public async Task The_unit_passes_systemd_analyze_verify_without_a_warning()
    {
        using var root = UnitRoot();

        var (exitCode, output) = await ExternalProgram.RunAsync("systemd-analyze", ["verify", $"--root={root.Path}", "gateway.service"]);

        // verify exits 0 even for directives it ignores, so any line about the unit is a failure too.
        var aboutTheUnit = output.Split('\n').Where(line => line.Contains("gateway.service", StringComparison.Ordinal)).ToList();
        Assert.True(exitCode == 0 && aboutTheUnit.Count == 0, $"systemd-analyze verify (exit {exitCode}):\n{output}");
    }

    [RequiresToolsFact("systemd-analyze")]
    public async Task The_units_exposure_score_stays_at_two_or_below()
    {
        using var root = UnitRoot();

        // --threshold is on the 0-100 scale: 20 is the 2.0 that systemd calls "OK".
        var (exitCode, output) = await ExternalProgram.RunAsync("systemd-analyze",
            ["security", "--offline=true", "--threshold=20", "--no-pager", $"--root={root.Path}", "gateway.service"]);

        Assert.True(exitCode == 0, $"systemd-analyze security (exit {exitCode}):\n{output}");
    }

    [Fact]
    public void The_unit_runs_as_its_own_user_and_may_write_only_the_data_folder()
    {
        var directives = File.ReadLines(UnitPath)
            .Where(line => line.Contains('=', StringComparison.Ordinal) && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .ToLookup(pair => pair[0], pair => pair[1]);

        Assert.Equal(["notify"], directives["Type"]);
        Assert.Equal(["gateway"], directives["User"]);
        Assert.Equal(["yes"], directives["NoNewPrivileges"]);
        Assert.Equal(["strict"], directives["ProtectSystem"]);
        Assert.Equal(["yes"], directives["ProtectHome"]);
        Assert.Equal(["yes"], directives["PrivateTmp"]);
        Assert.Equal(["/var/lib/gateway"], directives["ReadWritePaths"]);
        Assert.Equal(["Gateway__DataPath=/var/lib/gateway"], directives["Environment"].Where(value => value.StartsWith("Gateway__", StringComparison.Ordinal)));
        Assert.Equal(["on-failure"], directives["Restart"]);
        Assert.Equal([""], directives["CapabilityBoundingSet"]);
    }

    [Fact]
    public async Task The_gateway_tells_systemd_it_is_ready_only_once_its_listeners_accept_connections()
    {
        using var data = new TempDirectory();
        var socketPath = data.Combine("notify.sock");
        using var notifications = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notifications.Bind(new UnixDomainSocketEndPoint(socketPath));

        // The hosting library talks to systemd when its parent process is named "systemd": a shell under that name stands in.
        var systemd = data.Combine("systemd");
        File.CreateSymbolicLink(systemd, ExternalTools.Find("bash")!);

        var ready = ReceiveReadyAsync(notifications);
        await using var gateway = await GatewayProcess.StartAsync(data.Path, new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socketPath },
            launcher: [systemd, "-c", "dotnet \"$0\"; exit $?"]);
        var message = await ready.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Contains("READY=1", message, StringComparison.Ordinal);
        using var mqtt = new TcpClient();
        await mqtt.ConnectAsync("127.0.0.1", gateway.MqttPort);
        using var health = await gateway.Operations.GetAsync("/healthz");
        Assert.True(health.IsSuccessStatusCode);
    }

    private static async Task<string> ReceiveReadyAsync(Socket notifications)
    {
        var buffer = new byte[4096];
        while (true)
        {
            var read = await notifications.ReceiveAsync(buffer, SocketFlags.None);
            var message = Encoding.UTF8.GetString(buffer, 0, read);
            if (message.Contains("READY=1", StringComparison.Ordinal))
            {
                return message;
            }
        }
    }

    // An image root holding the unit, an executable where ExecStart points, and the host's own system units.
    private static UnitRootDirectory UnitRoot()
    {
        var root = new UnitRootDirectory();
        Directory.CreateDirectory(root.Combine("etc", "systemd", "system"));
        Directory.CreateDirectory(root.Combine("opt", "gateway"));
        Directory.CreateDirectory(root.Combine("usr", "lib", "systemd"));
        File.Copy(UnitPath, root.Combine("etc", "systemd", "system", "gateway.service"));
        var executable = root.Combine("opt", "gateway", "Gateway.Silo");
        File.WriteAllText(executable, "#!/bin/sh\n");
        File.SetUnixFileMode(executable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.CreateSymbolicLink(root.SystemUnits, "/usr/lib/systemd/system");
        return root;
    }

    /// <summary>A temp folder whose link to the host's units is removed first, so deleting it never follows the link.</summary>
    private sealed class UnitRootDirectory : IDisposable
    {
        private readonly TempDirectory _folder = new();

        public string Path => _folder.Path;

        public string SystemUnits => Combine("usr", "lib", "systemd", "system");

        public string Combine(params string[] parts) => _folder.Combine(parts);

        public void Dispose()
        {
            File.Delete(SystemUnits);
            _folder.Dispose();
        }
    }
}
