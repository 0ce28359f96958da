using System.Text;
using Gateway.Devices;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Grains;

/// <summary>Stops a silo and starts a new one on the same SQLite file: what was persisted must be there.</summary>
public sealed class RestartTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private Dictionary<string, string?> Settings => new()
    {
        ["Gateway:DataPath"] = _directory.Path,
        ["Gateway:Sinks:0:Name"] = "file",
        ["Gateway:Sinks:0:Type"] = "file",
        ["Gateway:Sinks:0:Path"] = _directory.Combine("sink"),
    };

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Grain_state_and_reminders_survive_a_silo_restart_on_the_same_file()
    {
        var serviceId = "restart-" + Guid.NewGuid().ToString("N")[..8];
        var payload = new IncomingMessage(Encoding.UTF8.GetBytes("{}"), null, null, null, "test", "devices/test/telemetry");

        var before = await GatewayCluster.StartAsync(Settings, serviceId);
        await before.GrainFactory.GetGrain<IDeviceGrain>("sensor-1").AcceptAsync([payload, payload, payload]);
        await before.GrainFactory.GetGrain<IReminderProbeGrain>("probe").StartAsync(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(async () => (await before.GrainFactory.GetGrain<IReminderProbeGrain>("probe").GetTicksAsync()).Count > 0,
            "the reminder ticks before the restart");
        await before.StopAllSilosAsync();
        await before.DisposeAsync();
        var restartedAt = DateTimeOffset.UtcNow;

        var after = await GatewayCluster.StartAsync(Settings, serviceId);
        try
        {
            var device = after.GrainFactory.GetGrain<IDeviceGrain>("sensor-1");
            var status = await device.GetStatusAsync();
            Assert.Equal(3, status.AcceptedCount);
            Assert.NotNull(status.FirstSeen);
            var next = await device.AcceptAsync([payload]);
            Assert.Equal(4, next.Messages[0].Sequence);

            // Nothing calls the probe after the restart: only the reminder, read back from SQLite, can add ticks.
            var probe = after.GrainFactory.GetGrain<IReminderProbeGrain>("probe");
            await Eventually.TrueAsync(async () => (await probe.GetTicksAsync()).Any(tick => tick > restartedAt),
                "a reminder tick after the restart");
        }
        finally
        {
            await after.StopAllSilosAsync();
            await after.DisposeAsync();
        }
    }
}
