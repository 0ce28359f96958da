using System.Net.Http.Headers;
using System.Text;
using Gateway.Ingest.Credentials;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Gateway.Ingest.Http;

/// <summary>
/// Decides whether a request may post as the device in its path, through the <see cref="DeviceCredentialCheck"/>
/// MQTT uses too. A client certificate on the HTTPS listener names the device; otherwise HTTP Basic credentials do
/// (user name = device id, password = the device's secret, the one MQTT devices send as their password); a request
/// with neither is anonymous. The identity must be the device of the path. Runs before the body is read, so a sender
/// that may not post costs no buffering.
/// </summary>
public sealed class HttpDeviceAuthenticator(DeviceCredentialCheck credentials, IOptions<HttpIngestOptions> options)
{
    /// <summary>The scheme and realm sent with every 401.</summary>
    public const string Challenge = "Basic realm=\"gateway\", charset=\"UTF-8\"";

    private readonly HttpIngestOptions _options = options.Value;

    /// <summary>Null when the request may post as <paramref name="deviceId"/>; otherwise the problem to answer.</summary>
    public async Task<IResult?> AuthorizeAsync(HttpContext context, string deviceId)
    {
        ArgumentNullException.ThrowIfNull(context);
        var isSecure = context.Request.IsHttps;
        var certificate = isSecure ? context.Connection.ClientCertificate : null;
        string? userName = null;
        string? secret = null;
        var header = context.Request.Headers.Authorization;
        if (header.Count > 0 && (!TryReadBasic(header.ToString(), out userName, out secret) || (userName.Length == 0 && secret.Length == 0)))
        {
            return Problems.Unauthorized(IngestReasons.BadCredentials, "The Authorization header must be HTTP Basic with a device id and its secret.");
        }

        // With a certificate and no Basic user name, the path says which of the certificate's devices this is.
        var claimed = certificate is not null && string.IsNullOrEmpty(userName) ? deviceId : userName;
        var attempt = new CredentialAttempt(claimed, secret, certificate, isSecure, context.Connection.RemoteIpAddress);
        var result = await credentials.CheckAsync(attempt, isSecure ? _options.TlsPolicy : _options.PlaintextPolicy);
        if (!result.IsAuthenticated)
        {
            return Refused(result);
        }

        var identity = result.Identity!;
        return identity.MayPublishAs(deviceId)
            ? null
            : Problems.Forbidden(IngestReasons.NotAuthorized, $"The credentials are device '{identity}'; it may post only to /v1/devices/{identity}/telemetry.");
    }

    private IResult Refused(CredentialResult result) => result.Reason switch
    {
        IngestReasons.AuthenticationThrottled => Problems.TooManyRequests(result.Reason, result.Detail, credentials.ThrottleWindow),
        IngestReasons.Unavailable => Problems.Unavailable($"The credentials could not be checked now: {result.Detail}; nothing was stored.", TimeSpan.FromSeconds(1)),
        // Credentials that are valid, or would be, but not for this request: repeating them will not help.
        IngestReasons.PlaintextCredentials or IngestReasons.CertificateMismatch => Problems.Forbidden(result.Reason, Sentence(result.Detail)),
        _ => Problems.Unauthorized(result.Reason, Sentence(result.Detail)),
    };

    private static string Sentence(string detail) => string.Concat(char.ToUpperInvariant(detail[0]).ToString(), detail.AsSpan(1), ".");

    private static bool TryReadBasic(string header, out string userName, out string secret)
    {
        (userName, secret) = ("", "");
        if (!AuthenticationHeaderValue.TryParse(header, out var value)
            || !string.Equals(value.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || value.Parameter is not { Length: > 0 } encoded)
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return false;
        }

        // RFC 7617: the user id cannot hold a colon; the password may.
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }

        (userName, secret) = (decoded[..colon], decoded[(colon + 1)..]);
        return true;
    }
}
