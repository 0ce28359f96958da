using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gateway.Devices;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Operations;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Host;

/// <summary>
/// The in-process gateway with its HTTPS ingest listener on a loopback port, a test PKI as device CA and server
/// certificate, and anonymous posting off, so every request authenticates with a certificate or a secret.
/// </summary>
public class HttpsGateway : InProcessGateway
{
    public const int MaxFailedAuthentications = 3;

    private readonly TempDirectory _pki;

    public HttpsGateway()
        : this(requireClientCertificate: false)
    {
    }

    protected HttpsGateway(bool requireClientCertificate)
        : this(new TempDirectory(), FreePort.Next(), requireClientCertificate)
    {
    }

    private HttpsGateway(TempDirectory pki, int tlsPort, bool requireClientCertificate)
        : this(pki, new TestCertificates(pki.Path), tlsPort, requireClientCertificate)
    {
    }

    private HttpsGateway(TempDirectory pki, TestCertificates certificates, int tlsPort, bool requireClientCertificate)
        : base(new Dictionary<string, string?>
        {
            ["Gateway:Http:AllowAnonymous"] = "false",
            ["Gateway:Http:TlsPort"] = tlsPort.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Http:TlsBindAddress"] = "127.0.0.1",
            ["Gateway:Http:CertificatePath"] = certificates.ServerCertificatePath,
            ["Gateway:Http:CertificateKeyPath"] = certificates.ServerKeyPath,
            ["Gateway:Http:ClientCaPath"] = certificates.CaPath,
            ["Gateway:Http:RequireClientCertificate"] = requireClientCertificate ? "true" : "false",
            ["Gateway:Authentication:MaxFailedAuthentications"] = MaxFailedAuthentications.ToString(CultureInfo.InvariantCulture),
        })
    {
        _pki = pki;
        Certificates = certificates;
        TlsPort = tlsPort;
    }

    public TestCertificates Certificates { get; }

    public int TlsPort { get; }

    /// <summary>The curl options that trust the gateway's server certificate.</summary>
    public string[] TrustServer => ["--cacert", Certificates.CaPath];

    public static string NewDeviceId() => "tls-" + Guid.NewGuid().ToString("N")[..12];

    public Uri TelemetryUrl(string deviceId) => new($"https://127.0.0.1:{TlsPort}/v1/devices/{deviceId}/telemetry");

    /// <summary>Gives the device a secret and returns it.</summary>
    public async Task<string> ProvisionAsync(string deviceId) =>
        await Services.GetRequiredService<IGrainFactory>().GetGrain<IDeviceCredentialsGrain>(deviceId).ProvisionAsync()
        ?? throw new InvalidOperationException($"{deviceId} already had a secret");

    /// <summary>How many messages the device's grain has stored.</summary>
    public async Task<long> AcceptedCountAsync(string deviceId) =>
        (await Services.GetRequiredService<IGrainFactory>().GetGrain<IDeviceGrain>(deviceId).GetStatusAsync()).AcceptedCount;

    /// <summary>Completes a TLS handshake with the HTTPS listener and returns the server certificate it presented.</summary>
    public async Task<X509Certificate2> PresentedServerCertificateAsync()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", TlsPort);
        X509Certificate2? presented = null;
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            presented = certificate is null ? null : new X509Certificate2(certificate);
            return true;
        });
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" });
        return presented ?? throw new InvalidOperationException("the server presented no certificate");
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _pki.Dispose();
    }
}

/// <summary>The HTTPS gateway that refuses, at the handshake, every client without a valid device certificate.</summary>
public sealed class CertificateRequiredHttpsGateway() : HttpsGateway(requireClientCertificate: true);

[CollectionDefinition(Name)]
public sealed class HttpsGatewayCollection : ICollectionFixture<HttpsGateway>, ICollectionFixture<CertificateRequiredHttpsGateway>
{
    public const string Name = "https-gateway";
}
