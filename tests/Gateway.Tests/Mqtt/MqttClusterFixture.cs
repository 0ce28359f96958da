using System.Globalization;
using Gateway.Devices;
using Gateway.Ingest.Mqtt;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Orleans.TestingHost;

namespace Gateway.Tests.Mqtt;

/// <summary>
/// One gateway silo (TestCluster, real SQLite storage, file sink) hosting the MQTT broker, shared by the MQTT
/// tests: a plaintext loopback listener with anonymous first-run access, and a TLS listener that checks client
/// certificates against a test CA when one is sent. Tests use unique device and client ids.
/// </summary>
public sealed class MqttClusterFixture : IAsyncLifetime
{
    public const int MaxPayloadBytes = 4096;
    public const int MaxConnectionsPerDevice = 2;
    public const int MaxInFlightPerClient = 8;

    private readonly TempDirectory _directory = new();

    public TestCluster Cluster { get; private set; } = null!;

    public TestCertificates Certificates { get; private set; } = null!;

    public int Port { get; } = FreePort.Next();

    public int TlsPort { get; } = FreePort.Next();

    public string SinkFolder => _directory.Combine("sink");

    public string DatabasePath => _directory.Combine(SqliteDatabase.FileName);

    public MqttIngestMetrics Metrics => (MqttIngestMetrics)Cluster.GetSiloServiceProvider().GetService(typeof(MqttIngestMetrics))!;

    public async Task InitializeAsync()
    {
        Certificates = new TestCertificates(_directory.Combine("certificates"));
        Cluster = await GatewayCluster.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:DataPath"] = _directory.Path,
            ["Gateway:Sinks:0:Name"] = "file",
            ["Gateway:Sinks:0:Type"] = "file",
            ["Gateway:Sinks:0:Path"] = SinkFolder,
            ["Gateway:Mqtt:Port"] = Port.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Mqtt:TlsPort"] = TlsPort.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Mqtt:TlsBindAddress"] = "127.0.0.1",
            ["Gateway:Mqtt:CertificatePath"] = Certificates.ServerCertificatePath,
            ["Gateway:Mqtt:CertificateKeyPath"] = Certificates.ServerKeyPath,
            ["Gateway:Mqtt:ClientCaPath"] = Certificates.CaPath,
            ["Gateway:Mqtt:MaxPayloadBytes"] = MaxPayloadBytes.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Mqtt:MaxConnectionsPerDevice"] = MaxConnectionsPerDevice.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Mqtt:MaxInFlightPerClient"] = MaxInFlightPerClient.ToString(CultureInfo.InvariantCulture),
            // Every test connects from 127.0.0.1 and several send wrong secrets on purpose: the throttle has its own tests.
            ["Gateway:Authentication:MaxFailedAuthentications"] = "100000",
        }, extraSiloConfigurators: typeof(MqttSiloConfigurator));
    }

    /// <summary>Gives a new device a secret, through the grain a later admin API will call.</summary>
    public async Task<string> ProvisionAsync(string deviceId) =>
        (await Cluster.GrainFactory.GetGrain<IDeviceCredentialsGrain>(deviceId).ProvisionAsync())!;

    /// <summary>Sink lines of one device, in file order.</summary>
    public List<SinkLine> Delivered(string deviceId) => SinkFiles.Read(SinkFolder).Where(line => line.DeviceId == deviceId).ToList();

    /// <summary>Messages of one device in the WAL, delivered or not.</summary>
    public long Stored(string deviceId) =>
        WalDatabase.Scalar(DatabasePath, "SELECT count(*) FROM wal_message WHERE device_id = $d", ("$d", deviceId));

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        _directory.Dispose();
    }
}

/// <summary>Hosts MQTT ingest in a test silo, as the gateway host does.</summary>
public sealed class MqttSiloConfigurator : ISiloConfigurator
{
    public void Configure(ISiloBuilder siloBuilder) => siloBuilder.Services.AddMqttIngest();
}

[CollectionDefinition(Name)]
public sealed class MqttClusterCollection : ICollectionFixture<MqttClusterFixture>
{
    public const string Name = "mqtt-cluster";
}
