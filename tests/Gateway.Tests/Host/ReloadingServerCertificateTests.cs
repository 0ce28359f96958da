using Gateway.Ingest.Tls;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Host;

/// <summary>The TLS listeners' certificate reload, on the files a renewal rewrites.</summary>
public sealed class ReloadingServerCertificateTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    [Fact]
    public void A_change_that_does_not_load_keeps_the_served_certificate_until_the_files_change_again()
    {
        var certificates = new TestCertificates(_folder.Path);
        using var reloading = new ReloadingServerCertificate(
            new ServerCertificateSource(certificates.ServerCertificatePath, certificates.ServerKeyPath, null, "Gateway:Http:CertificatePath"), NullLogger.Instance);
        var original = reloading.Current.SerialNumber;

        File.WriteAllText(certificates.ServerCertificatePath, "half-written renewal\n");
        var whileBroken = reloading.Current.SerialNumber;
        var renewed = certificates.RenewServer();

        Assert.Equal(certificates.Server.SerialNumber, renewed.SerialNumber);
        Assert.Equal(original, whileBroken);
        Assert.Equal(renewed.SerialNumber, reloading.Current.SerialNumber);
        Assert.NotEqual(original, renewed.SerialNumber);
    }

    public void Dispose() => _folder.Dispose();
}
