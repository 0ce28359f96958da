using System.Globalization;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Gateway.Tests.Egress;

/// <summary>
/// One silo with an HTTPS sink per scenario, each routed by device-id pattern (<c>{sink}-*</c>) to its own
/// receiver, so tests that make their cloud fail never disturb each other.
/// </summary>
public abstract class EgressSilo(params string[] sinkNames) : IAsyncLifetime
{
    public const int CircuitFailureThreshold = 3;
    public static readonly TimeSpan CircuitOpenDuration = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan BackoffCap = TimeSpan.FromMilliseconds(200);

    private readonly TempDirectory _directory = new();

    public TestCluster Cluster { get; private set; } = null!;

    public Dictionary<string, CloudReceiver> Receivers { get; } = [];

    public string DatabasePath => _directory.Combine(SqliteDatabase.FileName);

    /// <summary>Settings beyond the sinks, and silo configurators beyond the gateway's.</summary>
    protected virtual Type[] Configure(Dictionary<string, string?> settings) => [];

    public async Task InitializeAsync()
    {
        var certificates = new TestCertificates(_directory.Path);
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:DataPath"] = _directory.Path,
            ["Gateway:Delivery:BatchSize"] = "20",
            ["Gateway:Delivery:BackoffBase"] = "00:00:00.020",
            ["Gateway:Delivery:BackoffCap"] = BackoffCap.ToString(),
            ["Gateway:Delivery:MaxAttempts"] = "1000",
        };
        for (var i = 0; i < sinkNames.Length; i++)
        {
            var name = sinkNames[i];
            var receiver = await CloudReceiver.StartAsync(certificates.Server);
            Receivers[name] = receiver;
            var prefix = $"Gateway:Sinks:{i}:";
            settings[prefix + "Name"] = name;
            settings[prefix + "Type"] = "http";
            settings[prefix + "Url"] = receiver.Url.ToString();
            settings[prefix + "CaCertificatePath"] = certificates.CaPath;
            settings[prefix + "Devices:0"] = name + "-*";
            settings[prefix + "CircuitFailureThreshold"] = CircuitFailureThreshold.ToString(CultureInfo.InvariantCulture);
            settings[prefix + "CircuitOpenDuration"] = CircuitOpenDuration.ToString();
            settings[prefix + "Gzip"] = name == "gzip" ? "true" : "false";
        }

        var configurators = Configure(settings);
        Cluster = await GatewayCluster.StartAsync(settings, null, configurators);
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

/// <summary>The egress silo on the real clock, for scenarios that only need delivery to make progress.</summary>
public sealed class EgressFixture() : EgressSilo("retry", "flaky", "reject", "gzip");

/// <summary>
/// The egress silo on a <see cref="FakeTimeProvider"/>: its partitions' timers, backoffs and circuits move only when a
/// test advances <see cref="Clock"/>, so tests of when something is sent assert on the clock, not on elapsed time.
/// </summary>
public sealed class FakeClockEgressFixture() : EgressSilo("outage", "slow", "resume")
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override Type[] Configure(Dictionary<string, string?> settings)
    {
        SiloClock.Use(Clock, settings);
        // A woken partition sends at once, not at the next linger tick, so only backoffs and circuits need the clock.
        settings["Gateway:Delivery:Linger"] = "00:00:00";
        return [typeof(SiloClock.Configurator)];
    }
}

[CollectionDefinition(Name)]
public sealed class EgressCollection : ICollectionFixture<EgressFixture>
{
    public const string Name = "egress";
}

[CollectionDefinition(Name)]
public sealed class FakeClockEgressCollection : ICollectionFixture<FakeClockEgressFixture>
{
    public const string Name = "egress-fake-clock";
}
