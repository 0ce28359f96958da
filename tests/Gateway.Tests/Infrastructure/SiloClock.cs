using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Puts a test's <see cref="FakeTimeProvider"/> in a silo's DI in place of <see cref="TimeProvider.System"/>, so the
/// grain timers, circuits and backoffs of that silo run on a clock the test advances. Silo configurators are built
/// by type, so the clock travels as an id in the silo's configuration; fixtures in parallel each get their own.
/// </summary>
public static class SiloClock
{
    public const string Key = "Tests:SiloClock";

    private static readonly ConcurrentDictionary<string, FakeTimeProvider> Clocks = new();

    /// <summary>Registers <paramref name="clock"/> and adds its id to <paramref name="settings"/>.</summary>
    public static void Use(FakeTimeProvider clock, IDictionary<string, string?> settings)
    {
        var id = Guid.NewGuid().ToString("N");
        Clocks[id] = clock;
        settings[Key] = id;
    }

    /// <summary>Add with <see cref="GatewayCluster.StartAsync"/>: replaces the silo's TimeProvider with the registered clock.</summary>
    public sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var id = siloBuilder.Configuration[Key] ?? throw new InvalidOperationException($"{Key} is not set: call SiloClock.Use.");
            siloBuilder.Services.AddSingleton<TimeProvider>(Clocks[id]);
        }
    }
}
