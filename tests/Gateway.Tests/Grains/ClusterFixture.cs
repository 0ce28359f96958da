using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Orleans.TestingHost;

namespace Gateway.Tests.Grains;

/// <summary>
/// One gateway silo shared by the grain tests, with two sinks: <c>file</c> writes NDJSON into the temp
/// folder, and <c>broken</c> is a file sink whose folder cannot be created (its parent is a file), a real
/// I/O failure on every delivery. Tests use unique device ids, so they never see each other's data.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string BrokenSink = "broken";
    public const int MaxAttempts = 3;

    private readonly TempDirectory _directory = new();

    public TestCluster Cluster { get; private set; } = null!;

    public string SinkFolder => _directory.Combine("sink");

    public string DatabasePath => _directory.Combine(SqliteDatabase.FileName);

    public async Task InitializeAsync()
    {
        var notAFolder = _directory.Combine("not-a-folder");
        await File.WriteAllTextAsync(notAFolder, "a file where the broken sink expects a folder");
        Cluster = await GatewayCluster.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:DataPath"] = _directory.Path,
            ["Gateway:Sinks:0:Name"] = "file",
            ["Gateway:Sinks:0:Type"] = "file",
            ["Gateway:Sinks:0:Path"] = SinkFolder,
            ["Gateway:Sinks:1:Name"] = BrokenSink,
            ["Gateway:Sinks:1:Type"] = "file",
            ["Gateway:Sinks:1:Path"] = Path.Combine(notAFolder, "sink"),
            ["Gateway:Delivery:MaxAttempts"] = MaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway:Delivery:BackoffBase"] = "00:00:00.010",
            ["Gateway:Delivery:BackoffCap"] = "00:00:00.050",
            ["Gateway:Delivery:ReminderPeriod"] = "00:00:01",
        });
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        _directory.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
