using System.Text.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Host;

/// <summary>
/// HTTPS ingest with real clients: curl with device certificates and secrets, openssl s_client for the protocol
/// versions, and a renewal of the server certificate's files while the gateway runs.
/// </summary>
[Collection(HttpsGatewayCollection.Name)]
public sealed class HttpsIngestTests(HttpsGateway gateway, CertificateRequiredHttpsGateway strict)
{
    private const string Json = """{"temperature":21.5}""";

    [RequiresToolsFact("curl")]
    public async Task A_device_certificate_posts_as_its_own_device()
    {
        var deviceId = HttpsGateway.NewDeviceId();
        var certificate = gateway.Certificates.Client(deviceId);

        var response = await Curl.PostJsonAsync(gateway.TelemetryUrl(deviceId), Json, [.. gateway.TrustServer, .. Curl.WithCertificate(certificate)]);

        Assert.True(response.Status == 202, $"expected 202, got {response.Status}: {response.Body}{response.Errors}");
        Assert.Equal(1, await gateway.AcceptedCountAsync(deviceId));
    }

    [RequiresToolsFact("curl")]
    public async Task Another_devices_certificate_posting_as_this_device_is_refused_403_and_nothing_is_stored()
    {
        var victim = HttpsGateway.NewDeviceId();
        var other = gateway.Certificates.Client(HttpsGateway.NewDeviceId());

        var byPath = await Curl.PostJsonAsync(gateway.TelemetryUrl(victim), Json, [.. gateway.TrustServer, .. Curl.WithCertificate(other)]);
        // Naming the victim as the Basic user does not widen what the certificate names either.
        var byUserName = await Curl.PostJsonAsync(gateway.TelemetryUrl(victim), Json, [.. gateway.TrustServer, .. Curl.WithCertificate(other), "-u", $"{victim}:"]);

        AssertProblem(byPath, 403, "certificate-mismatch");
        AssertProblem(byUserName, 403, "certificate-mismatch");
        Assert.Equal(0, await gateway.AcceptedCountAsync(victim));
    }

    [RequiresToolsFact("curl")]
    public async Task Certificates_from_another_ca_or_expired_are_refused_at_the_handshake()
    {
        var deviceId = HttpsGateway.NewDeviceId();
        var untrusted = gateway.Certificates.Untrusted(deviceId);
        var expired = gateway.Certificates.Expired(deviceId);

        var fromOtherCa = await Curl.PostJsonAsync(gateway.TelemetryUrl(deviceId), Json, [.. gateway.TrustServer, .. Curl.WithCertificate(untrusted)]);
        var outOfDate = await Curl.PostJsonAsync(gateway.TelemetryUrl(deviceId), Json, [.. gateway.TrustServer, .. Curl.WithCertificate(expired)]);

        AssertRefusedAtHandshake(fromOtherCa);
        AssertRefusedAtHandshake(outOfDate);
        Assert.Equal(0, await gateway.AcceptedCountAsync(deviceId));
    }

    [RequiresToolsFact("curl")]
    public async Task Without_a_certificate_a_secret_authenticates_and_a_request_with_neither_is_refused_401()
    {
        var deviceId = HttpsGateway.NewDeviceId();
        var secret = await gateway.ProvisionAsync(deviceId);

        var withSecret = await Curl.PostJsonAsync(gateway.TelemetryUrl(deviceId), Json, [.. gateway.TrustServer, "-u", $"{deviceId}:{secret}"]);
        var withNothing = await Curl.PostJsonAsync(gateway.TelemetryUrl(deviceId), Json, gateway.TrustServer);

        Assert.True(withSecret.Status == 202, $"expected 202, got {withSecret.Status}: {withSecret.Body}{withSecret.Errors}");
        AssertProblem(withNothing, 401, "credentials-required");
        Assert.Equal(1, await gateway.AcceptedCountAsync(deviceId));
    }

    [RequiresToolsFact("curl")]
    public async Task A_device_certificate_still_posts_from_an_address_throttled_for_guessing_secrets()
    {
        var deviceId = HttpsGateway.NewDeviceId();
        var certificate = gateway.Certificates.Client(deviceId);
        // An address of its own (all of 127.0.0.0/8 is loopback), so the other tests' requests are not throttled.
        string[] fromGuesser = [.. gateway.TrustServer, "--interface", "127.0.0.50"];

        var guesses = new List<int>();
        for (var guess = 0; guess < HttpsGateway.MaxFailedAuthentications; guess++)
        {
            guesses.Add((await Curl.PostJsonAsync(gateway.TelemetryUrl(deviceId), Json, [.. fromGuesser, "-u", $"{deviceId}:guess-{guess}"])).Status);
        }

        var secretAfter = await Curl.PostJsonAsync(gateway.TelemetryUrl(deviceId), Json, [.. fromGuesser, "-u", $"{deviceId}:one-more"]);
        var certificateAfter = await Curl.PostJsonAsync(gateway.TelemetryUrl(deviceId), Json, [.. fromGuesser, .. Curl.WithCertificate(certificate)]);

        Assert.Equal(Enumerable.Repeat(401, HttpsGateway.MaxFailedAuthentications), guesses);
        AssertProblem(secretAfter, 429, "authentication-throttled");
        Assert.True(certificateAfter.Status == 202, $"expected 202, got {certificateAfter.Status}: {certificateAfter.Body}{certificateAfter.Errors}");
    }

    [RequiresToolsFact("openssl")]
    public async Task Tls_1_2_and_1_3_are_spoken_and_tls_1_1_is_refused_even_where_the_machines_openssl_allows_it()
    {
        // OpenSSL 3 refuses TLS 1.1 by default, which would hide a gateway that asked for it: this one runs (a real
        // process) under an OpenSSL configuration that allows TLS 1.0 and up, as older or loosened systems do, so the
        // refusal below is the gateway's own TLS 1.2/1.3 setting.
        using var folder = new TempDirectory();
        var openSslConfig = folder.Combine("openssl.cnf");
        await File.WriteAllTextAsync(openSslConfig, """
            openssl_conf = openssl_init
            [openssl_init]
            ssl_conf = ssl_section
            [ssl_section]
            system_default = system_default_section
            [system_default_section]
            MinProtocol = TLSv1
            CipherString = DEFAULT:@SECLEVEL=0
            """);
        var tlsPort = FreePort.Next();
        Directory.CreateDirectory(folder.Combine("data"));
        await using var loosened = await GatewayProcess.StartAsync(folder.Combine("data"), new Dictionary<string, string>
        {
            ["OPENSSL_CONF"] = openSslConfig,
            ["Gateway:Http:TlsPort"] = tlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway:Http:TlsBindAddress"] = "127.0.0.1",
            ["Gateway:Http:CertificatePath"] = gateway.Certificates.ServerCertificatePath,
            ["Gateway:Http:CertificateKeyPath"] = gateway.Certificates.ServerKeyPath,
        });

        var tls12 = await HandshakeAsync(tlsPort, "-tls1_2");
        var tls13 = await HandshakeAsync(tlsPort, "-tls1_3");
        // SECLEVEL=0 lets this client offer TLS 1.1 at all.
        var tls11 = await HandshakeAsync(tlsPort, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0");

        Assert.True(tls12.ExitCode == 0 && tls12.Output.Contains("Protocol version: TLSv1.2", StringComparison.Ordinal), tls12.Output);
        Assert.True(tls13.ExitCode == 0 && tls13.Output.Contains("Protocol version: TLSv1.3", StringComparison.Ordinal), tls13.Output);
        Assert.True(tls11.ExitCode != 0 && !tls11.Output.Contains("Protocol version", StringComparison.Ordinal), tls11.Output);
    }

    [Fact]
    public async Task A_renewed_server_certificate_is_served_from_the_next_handshake_without_a_restart()
    {
        var before = await gateway.PresentedServerCertificateAsync();
        Assert.Equal(gateway.Certificates.Server.SerialNumber, before.SerialNumber);

        var renewed = gateway.Certificates.RenewServer();
        var after = await gateway.PresentedServerCertificateAsync();

        Assert.NotEqual(before.SerialNumber, renewed.SerialNumber);
        Assert.Equal(renewed.SerialNumber, after.SerialNumber);
    }

    [RequiresToolsFact("curl")]
    public async Task Where_a_certificate_is_required_a_client_without_one_is_refused_at_the_handshake_even_with_a_secret()
    {
        var deviceId = HttpsGateway.NewDeviceId();
        var secret = await strict.ProvisionAsync(deviceId);
        var certificate = strict.Certificates.Client(deviceId);

        var withSecretOnly = await Curl.PostJsonAsync(strict.TelemetryUrl(deviceId), Json, [.. strict.TrustServer, "-u", $"{deviceId}:{secret}"]);
        var withCertificate = await Curl.PostJsonAsync(strict.TelemetryUrl(deviceId), Json, [.. strict.TrustServer, .. Curl.WithCertificate(certificate)]);

        AssertRefusedAtHandshake(withSecretOnly);
        Assert.True(withCertificate.Status == 202, $"expected 202, got {withCertificate.Status}: {withCertificate.Body}{withCertificate.Errors}");
        Assert.Equal(1, await strict.AcceptedCountAsync(deviceId));
    }

    private Task<(int ExitCode, string Output)> HandshakeAsync(int port, params string[] options) =>
        ExternalProgram.RunAsync("openssl",
            ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", "localhost", "-CAfile", gateway.Certificates.CaPath, "-brief", .. options],
            standardInput: "", timeout: TimeSpan.FromSeconds(20));

    private static void AssertProblem(Curl.Response response, int status, string reason)
    {
        Assert.True(response.Status == status, $"expected {status}, got {response.Status}: {response.Body}{response.Errors}");
        using var problem = JsonDocument.Parse(response.Body);
        Assert.Equal(reason, problem.RootElement.GetProperty("reason").GetString());
    }

    // In TLS 1.3 the client certificate travels after the server's Finished, so curl may see the refusal as a
    // failed handshake (exit 35) or as the connection reset on its first read (56): either way no HTTP response.
    private static void AssertRefusedAtHandshake(Curl.Response response) =>
        Assert.True(response.ExitCode != 0 && response.Status == 0, $"expected a refused handshake, got exit {response.ExitCode}, status {response.Status}: {response.Body}{response.Errors}");
}
