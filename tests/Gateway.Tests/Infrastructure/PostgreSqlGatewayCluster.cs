using Gateway.Silo.Storage;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A TestCluster of gateway silos in cluster mode: membership, grain state, reminders and the WAL in one
/// PostgreSQL database, the client finding the silos through the same membership table.
/// </summary>
public static class PostgreSqlGatewayCluster
{
    public static async Task<TestCluster> StartAsync(string connectionString, IReadOnlyDictionary<string, string?> settings, short silos = 3)
    {
        var builder = new TestClusterBuilder(silos);
        var id = "gateway-" + Guid.NewGuid().ToString("N")[..8];
        builder.Options.ServiceId = id;
        builder.Options.ClusterId = id;
        // Membership lives in PostgreSQL, as on three Pis, instead of the TestCluster's in-memory table.
        builder.Options.UseTestClusterMembership = false;
        var all = new Dictionary<string, string?>(settings)
        {
            ["Gateway:Cluster:Mode"] = "PostgreSql",
            ["Gateway:Cluster:ConnectionString"] = connectionString,
            ["Gateway:Cluster:StatisticsRefreshInterval"] = "00:00:00.200",
        };
        builder.ConfigureHostConfiguration(configuration => configuration.AddInMemoryCollection(all));
        builder.AddSiloBuilderConfigurator<ClusterSiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClusterClientConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private sealed class ClusterSiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddGatewayStorage();
            siloBuilder.AddGatewayGrains();
            siloBuilder.Configure<ReminderOptions>(options => options.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            // A killed silo is declared dead within seconds rather than the production default's half minute.
            siloBuilder.Configure<ClusterMembershipOptions>(options =>
            {
                options.ProbeTimeout = TimeSpan.FromSeconds(1);
                options.NumMissedProbesLimit = 2;
                options.TableRefreshTimeout = TimeSpan.FromSeconds(1);
                options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);
            });
        }
    }

    private sealed class ClusterClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseAdoNetClustering(options =>
            {
                options.Invariant = PostgreSqlOrleansStorage.Invariant;
                options.ConnectionString = configuration["Gateway:Cluster:ConnectionString"];
            });
    }
}
