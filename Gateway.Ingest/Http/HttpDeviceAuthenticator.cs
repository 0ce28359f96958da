using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gateway.Devices;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Gateway.Ingest.Http;

/// <summary>
/// Decides whether a request may post as the device in its path. HTTP Basic credentials name the device (user name =
/// device id) and carry its secret, the same one MQTT devices send as their password, checked by the device's
/// <see cref="IDeviceCredentialsGrain"/>; they must name the device of the path. A request without an Authorization
/// header is anonymous: allowed only from loopback while <see cref="HttpIngestOptions.AllowAnonymous"/> is on.
/// Runs before the body is read, so a sender that may not post costs no buffering.
/// </summary>
public sealed class HttpDeviceAuthenticator(IGrainFactory grains, IOptions<HttpIngestOptions> options)
{
    /// <summary>The scheme and realm sent with every 401.</summary>
    public const string Challenge = "Basic realm=\"gateway\", charset=\"UTF-8\"";

    private readonly HttpIngestOptions _options = options.Value;

    /// <summary>Null when the request may post as <paramref name="deviceId"/>; otherwise the problem to answer.</summary>
    public async Task<IResult?> AuthorizeAsync(HttpContext context, string deviceId)
    {
        ArgumentNullException.ThrowIfNull(context);
        var header = context.Request.Headers.Authorization;
        if (header.Count == 0)
        {
            return _options.AllowAnonymous && context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address)
                ? null
                : Problems.Unauthorized("credentials-required",
                    "Send the device id and its secret as HTTP Basic credentials; anonymous posting is off here.");
        }

        if (!TryReadBasic(header.ToString(), out var userName, out var secret) || !DeviceId.IsValid(userName) || secret.Length == 0)
        {
            return Problems.Unauthorized("bad-credentials", "The Authorization header must be HTTP Basic with a device id and its secret.");
        }

        bool verified;
        try
        {
            verified = await grains.GetGrain<IDeviceCredentialsGrain>(userName).VerifyAsync(secret);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            return Problems.Unavailable($"The credentials could not be checked now ({error.GetType().Name}); nothing was stored.", TimeSpan.FromSeconds(1));
        }

        if (!verified)
        {
            return Problems.Unauthorized("bad-credentials", "Unknown device or wrong secret.");
        }

        // Authenticated, but as another device: a device posts only as itself.
        return string.Equals(userName, deviceId, StringComparison.Ordinal)
            ? null
            : Problems.Forbidden("not-authorized", $"The credentials are device '{userName}'; it may post only to /v1/devices/{userName}/telemetry.");
    }

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
