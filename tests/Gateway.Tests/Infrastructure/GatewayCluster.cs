using Gateway.Silo.Storage;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Builds a TestCluster whose silos run the gateway's real storage (SQLite file in a temp folder),
/// WAL and grains, configured through the same keys as the host.
/// </summary>
public static class GatewayCluster
{
    public static async Task<TestCluster> StartAsync(
        IReadOnlyDictionary<string, string?> settings, string? serviceId = null, params Type[] extraSiloConfigurators)
    {
        var builder = new TestClusterBuilder(1);
        if (serviceId is not null)
        {
            builder.Options.ServiceId = serviceId;
            builder.Options.ClusterId = serviceId;
        }

        builder.ConfigureHostConfiguration(configuration => configuration.AddInMemoryCollection(settings));
        builder.AddSiloBuilderConfigurator<GatewaySiloConfigurator>();
        foreach (var configurator in extraSiloConfigurators)
        {
            builder.Options.SiloBuilderConfiguratorTypes.Add(configurator.AssemblyQualifiedName!);
        }
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private sealed class GatewaySiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddGatewayStorage();
            siloBuilder.AddGatewayGrains();
            // Lets tests watch reminders fire within seconds; production keeps Orleans' one-minute floor.
            siloBuilder.Configure<ReminderOptions>(options => options.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        }
    }
}
