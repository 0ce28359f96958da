using System.Text;
using Gateway.Devices;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Wal;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Gateway.Tests.Cluster;

/// <summary>
/// Three gateway silos on one PostgreSQL database, delivering to an HTTPS cloud stand-in that records every
/// batch in arrival order, so per-device order and completeness can be checked from what the cloud saw.
/// </summary>
public sealed class ClusterScenario : IAsyncDisposable
{
    private readonly TempDirectory _directory;

    private ClusterScenario(TempDirectory directory, string connectionString, CloudReceiver cloud)
    {
        _directory = directory;
        ConnectionString = connectionString;
        Cloud = cloud;
    }

    public string ConnectionString { get; }

    public CloudReceiver Cloud { get; }

    public TestCluster Cluster { get; private set; } = null!;

    public static async Task<ClusterScenario> StartAsync(PostgreSqlServer server, short silos = 3, TimeSpan? reminderPeriod = null)
    {
        var connectionString = await server.CreateDatabaseAsync("cluster");
        var directory = new TempDirectory();
        var certificates = new TestCertificates(directory.Path);
        var cloud = await CloudReceiver.StartAsync(certificates.Server);
        var scenario = new ClusterScenario(directory, connectionString, cloud);
        scenario.Cluster = await PostgreSqlGatewayCluster.StartAsync(connectionString, new Dictionary<string, string?>
        {
            ["Gateway:DataPath"] = scenario._directory.Path,
            ["Gateway:Sinks:0:Name"] = "cloud",
            ["Gateway:Sinks:0:Type"] = "http",
            ["Gateway:Sinks:0:Url"] = cloud.Url.ToString(),
            ["Gateway:Sinks:0:CaCertificatePath"] = certificates.CaPath,
            // The circuit never opens, so a closing circuit never wakes partitions: failover must do it alone.
            ["Gateway:Sinks:0:CircuitFailureThreshold"] = "10000",
            ["Gateway:Delivery:BatchSize"] = "50",
            ["Gateway:Delivery:BackoffBase"] = "00:00:00.050",
            ["Gateway:Delivery:BackoffCap"] = "00:00:00.500",
            ["Gateway:Delivery:MaxAttempts"] = "1000",
            ["Gateway:Delivery:ReminderPeriod"] = (reminderPeriod ?? TimeSpan.FromSeconds(1)).ToString(),
        }, silos);
        return scenario;
    }

    /// <summary>The grain factory inside one silo: calls made through it enter the cluster at that silo.</summary>
    public static IGrainFactory GrainsOf(SiloHandle silo) => ((InProcessSiloHandle)silo).ServiceProvider.GetRequiredService<IGrainFactory>();

    public static IncomingMessage Json(string deviceId, int n) =>
        new(Encoding.UTF8.GetBytes($$"""{"n":{{n}}}"""), "application/json", null, null, "test", $"devices/{deviceId}/telemetry");

    /// <summary>What the cloud accepted, per device, in arrival order: (message id, sequence).</summary>
    public Dictionary<string, List<(string MessageId, long Sequence)>> DeliveredByDevice()
    {
        var byDevice = new Dictionary<string, List<(string, long)>>();
        foreach (var record in Cloud.Accepted)
        {
            var deviceId = record.GetProperty("deviceId").GetString()!;
            if (!byDevice.TryGetValue(deviceId, out var list))
            {
                byDevice[deviceId] = list = [];
            }

            list.Add((record.GetProperty("messageId").GetString()!, record.GetProperty("sequence").GetInt64()));
        }

        return byDevice;
    }

    public long Scalar(string sql) => PostgreSqlWalUnderTest.Scalar(ConnectionString, sql);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Cluster.StopAllSilosAsync();
        }
        finally
        {
            await Cluster.DisposeAsync();
            await Cloud.DisposeAsync();
            _directory.Dispose();
        }
    }
}
