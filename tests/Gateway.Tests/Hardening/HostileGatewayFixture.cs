using System.Globalization;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hardening;

/// <summary>
/// One real gateway process (plaintext and TLS MQTT, HTTP, operations) with limits small enough for a test to
/// reach: the target of the hostile traffic tests, shared by them and started once.
/// </summary>
public sealed class HostileGatewayFixture : IAsyncLifetime
{
    public const int MaxMqttConnections = 40;
    public const int MaxMqttConnectionsPerAddress = 16;
    public const int MaxFailedAuthentications = 3;
    public static readonly TimeSpan ProtocolTimeout = TimeSpan.FromSeconds(2);

    private readonly TempDirectory _directory = new();

    public GatewayProcess Gateway { get; private set; } = null!;

    public int TlsPort { get; } = FreePort.Next();

    public async Task InitializeAsync()
    {
        var certificates = new TestCertificates(_directory.Combine("certificates"));
        Directory.CreateDirectory(_directory.Combine("data"));
        var seconds = ProtocolTimeout.ToString("c", CultureInfo.InvariantCulture);
        Gateway = await GatewayProcess.StartAsync(_directory.Combine("data"), new Dictionary<string, string>
        {
            ["Gateway:Mqtt:TlsPort"] = TlsPort.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Mqtt:TlsBindAddress"] = "127.0.0.1",
            ["Gateway:Mqtt:CertificatePath"] = certificates.ServerCertificatePath,
            ["Gateway:Mqtt:CertificateKeyPath"] = certificates.ServerKeyPath,
            ["Gateway:Mqtt:MaxConnections"] = MaxMqttConnections.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Mqtt:MaxConnectionsPerAddress"] = MaxMqttConnectionsPerAddress.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Mqtt:CommunicationTimeout"] = seconds,
            ["Gateway:Mqtt:TlsHandshakeTimeout"] = seconds,
            ["Gateway:Authentication:MaxFailedAuthentications"] = MaxFailedAuthentications.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Http:RequestHeadersTimeout"] = seconds,
            ["Gateway:Http:RequestBodyGracePeriod"] = "00:00:02",
        });
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        _directory.Dispose();
    }

    /// <summary>The sum of a Prometheus metric's samples whose labels contain <paramref name="label"/> (e.g. <c>reason="x"</c>).</summary>
    public async Task<double> MetricAsync(string name, string label)
    {
        var text = await Gateway.Operations.GetStringAsync("/metrics");
        return text.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal) && line.Contains(label, StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Waits until a metric reaches <paramref name="atLeast"/>: counters are exported a moment after the connection
    /// they count has closed, and the exporter caches a scrape briefly.
    /// </summary>
    public async Task AssertMetricReachesAsync(string name, string label, double atLeast)
    {
        try
        {
            await Eventually.TrueAsync(async () => await MetricAsync(name, label) >= atLeast, $"{name}{{{label}}} to reach {atLeast}", TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException error)
        {
            throw new TimeoutException($"{error.Message}; it is {await MetricAsync(name, label)}");
        }
    }

    public Task<string> MetricsTextAsync() => Gateway.Operations.GetStringAsync("/metrics");
}
