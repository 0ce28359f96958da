using System.Globalization;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Orleans.TestingHost;

namespace Gateway.Tests.Egress;

/// <summary>
/// One silo with an HTTPS sink per scenario, each routed by device-id pattern (<c>{sink}-*</c>) to its own
/// receiver, so tests that make their cloud fail never disturb each other.
/// </summary>
public sealed class EgressFixture : IAsyncLifetime
{
    public const int CircuitFailureThreshold = 3;
    public static readonly TimeSpan CircuitOpenDuration = TimeSpan.FromSeconds(1);
    public static readonly string[] SinkNames = ["retry", "flaky", "reject", "outage", "gzip", "slow", "resume"];

    /// <summary>The <c>resume</c> sink keeps its circuit open long enough to tell a woken partition from one that slept.</summary>
    public static readonly TimeSpan LongCircuitOpenDuration = TimeSpan.FromSeconds(5);

    private readonly TempDirectory _directory = new();

    public TestCluster Cluster { get; private set; } = null!;

    public Dictionary<string, CloudReceiver> Receivers { get; } = [];

    public string DatabasePath => _directory.Combine(SqliteDatabase.FileName);

    public async Task InitializeAsync()
    {
        var certificates = new TestCertificates(_directory.Path);
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:DataPath"] = _directory.Path,
            ["Gateway:Delivery:BatchSize"] = "20",
            ["Gateway:Delivery:BackoffBase"] = "00:00:00.020",
            ["Gateway:Delivery:BackoffCap"] = "00:00:00.200",
            ["Gateway:Delivery:MaxAttempts"] = "1000",
        };
        for (var i = 0; i < SinkNames.Length; i++)
        {
            var name = SinkNames[i];
            var receiver = await CloudReceiver.StartAsync(certificates.Server);
            Receivers[name] = receiver;
            var prefix = $"Gateway:Sinks:{i}:";
            settings[prefix + "Name"] = name;
            settings[prefix + "Type"] = "http";
            settings[prefix + "Url"] = receiver.Url.ToString();
            settings[prefix + "CaCertificatePath"] = certificates.CaPath;
            settings[prefix + "Devices:0"] = name + "-*";
            settings[prefix + "CircuitFailureThreshold"] = CircuitFailureThreshold.ToString(CultureInfo.InvariantCulture);
            settings[prefix + "CircuitOpenDuration"] = (name == "resume" ? LongCircuitOpenDuration : CircuitOpenDuration).ToString();
            settings[prefix + "Gzip"] = name == "gzip" ? "true" : "false";
        }

        Cluster = await GatewayCluster.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        foreach (var receiver in Receivers.Values)
        {
            await receiver.DisposeAsync();
        }

        _directory.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class EgressCollection : ICollectionFixture<EgressFixture>
{
    public const string Name = "egress";
}
