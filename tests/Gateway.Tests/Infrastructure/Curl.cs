using System.Globalization;

namespace Gateway.Tests.Infrastructure;

/// <summary>Posts telemetry with the real <c>curl</c>, so HTTPS and client certificates are what a device's stack sends.</summary>
public static class Curl
{
    /// <summary>What curl reported: its exit code (0 when an HTTP response came back), the HTTP status (0 without one), the body and its error text.</summary>
    public sealed record Response(int ExitCode, int Status, string Body, string Errors);

    /// <summary>POSTs <paramref name="json"/> to <paramref name="url"/>, with <paramref name="options"/> (certificates, credentials) added.</summary>
    public static async Task<Response> PostJsonAsync(Uri url, string json, params string[] options)
    {
        var bodyFile = Path.GetTempFileName();
        try
        {
            // -w prints the status first on stdout; curl's errors (-sS) follow on stderr.
            var (exitCode, output) = await ExternalProgram.RunAsync("curl",
                ["-sS", "--max-time", "20", "-o", bodyFile, "-w", "%{http_code}", "-H", "Content-Type: application/json", "--data-binary", json, .. options, url.ToString()]);
            var status = output.Length >= 3 && int.TryParse(output.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : 0;
            return new Response(exitCode, status, await File.ReadAllTextAsync(bodyFile), output.Length >= 3 ? output[3..] : output);
        }
        finally
        {
            File.Delete(bodyFile);
        }
    }

    /// <summary>The curl options that present <paramref name="certificate"/> as the client certificate.</summary>
    public static string[] WithCertificate(ClientCertificate certificate) => ["--cert", certificate.CertificatePath, "--key", certificate.KeyPath];
}
