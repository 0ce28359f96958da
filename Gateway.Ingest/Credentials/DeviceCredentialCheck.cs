using Gateway.Devices;
using Gateway.Ingest.Tls;
using Microsoft.Extensions.Options;

namespace Gateway.Ingest.Credentials;

/// <summary>
/// Decides who a client is, the same way for MQTT and HTTP. In order:
/// a client certificate (validated against the device CA during the TLS handshake) names the device, and a claimed
/// device must be one it names; it cannot be guessed, so it is taken even from an address the throttle refuses (a
/// device behind the same NAT as a guesser keeps working);
/// an address that failed too many secret checks lately is refused without a look;
/// a listener that requires a certificate refuses a client without one;
/// a secret is checked by the device's <see cref="IDeviceCredentialsGrain"/>, but only over TLS or from loopback
/// unless the listener allows plaintext secrets, since anyone on the way could read it;
/// a client with no credentials is anonymous, allowed only over plaintext from loopback in first-run mode.
/// Sending only as itself is <see cref="DeviceIdentity.MayPublishAs"/>, checked per message by the transport.
/// </summary>
public sealed class DeviceCredentialCheck(IGrainFactory grains, AuthenticationThrottle throttle, IOptions<DeviceAuthenticationOptions> options)
{
    private readonly DeviceAuthenticationOptions _options = options.Value;

    /// <summary>How long a throttled address should wait before it tries again.</summary>
    public TimeSpan ThrottleWindow => _options.FailedAuthenticationWindow;

    /// <summary>Authenticates one connection or request arriving on a listener with <paramref name="policy"/>.</summary>
    public async Task<CredentialResult> CheckAsync(CredentialAttempt attempt, ListenerPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        ArgumentNullException.ThrowIfNull(policy);
        if (attempt.IsSecure && attempt.Certificate is { } certificate)
        {
            return FromCertificate(certificate, attempt.DeviceId);
        }

        if (attempt.RemoteAddress is { } address && throttle.IsThrottled(address))
        {
            // Refused before the secret is looked at: a guesser learns nothing and costs no grain call.
            return CredentialResult.Refused(IngestReasons.AuthenticationThrottled,
                $"more than {_options.MaxFailedAuthentications} failed authentications from this address within {_options.FailedAuthenticationWindow}");
        }

        if (attempt.IsSecure && policy.RequireClientCertificate)
        {
            return CredentialResult.Refused(IngestReasons.CertificateRequired, "no client certificate, and this listener requires one");
        }

        if (!string.IsNullOrEmpty(attempt.DeviceId) || !string.IsNullOrEmpty(attempt.Secret))
        {
            if (!attempt.IsSecure && !attempt.IsFromLoopback && !policy.AllowPlaintextCredentials)
            {
                return CredentialResult.Refused(IngestReasons.PlaintextCredentials,
                    "a secret sent without TLS from another machine is refused: connect over TLS (MQTT 8883, HTTPS 8443)");
            }

            return await FromSecretAsync(attempt);
        }

        if (!attempt.IsSecure && policy.AllowAnonymous && attempt.IsFromLoopback)
        {
            return CredentialResult.Success(DeviceIdentity.Anonymous);
        }

        return CredentialResult.Refused(IngestReasons.CredentialsRequired, "no credentials, and anonymous access is off here");
    }

    private static CredentialResult FromCertificate(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate, string? claimed)
    {
        var names = ClientCertificates.DeviceIdsOf(certificate);
        if (!string.IsNullOrEmpty(claimed))
        {
            // A claimed device must be one the certificate names: the claim picks among them, never widens them.
            return names.Contains(claimed, StringComparer.Ordinal)
                ? CredentialResult.Success(new DeviceIdentity(claimed, "certificate"))
                : CredentialResult.Refused(IngestReasons.CertificateMismatch,
                    $"'{claimed}' is not a device the certificate names ({string.Join(", ", names)})");
        }

        return names.Count switch
        {
            1 => CredentialResult.Success(new DeviceIdentity(names[0], "certificate")),
            0 => CredentialResult.Refused(IngestReasons.CertificateNamesNoDevice, "the certificate's subject CN and SAN name no valid device id"),
            _ => CredentialResult.Refused(IngestReasons.CertificateAmbiguous, "the certificate names several devices; send the device id as the user name"),
        };
    }

    private async Task<CredentialResult> FromSecretAsync(CredentialAttempt attempt)
    {
        var deviceId = attempt.DeviceId;
        CredentialResult refusal;
        if (!DeviceId.IsValid(deviceId) || string.IsNullOrEmpty(attempt.Secret))
        {
            refusal = CredentialResult.Refused(IngestReasons.BadCredentials, "malformed device id or empty secret");
        }
        else
        {
            bool verified;
            try
            {
                verified = await grains.GetGrain<IDeviceCredentialsGrain>(deviceId!).VerifyAsync(attempt.Secret);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                return CredentialResult.Refused(IngestReasons.Unavailable, $"the credentials could not be checked now ({error.GetType().Name})");
            }

            if (verified)
            {
                return CredentialResult.Success(new DeviceIdentity(deviceId!, "secret"));
            }

            refusal = CredentialResult.Refused(IngestReasons.BadCredentials, "unknown device or wrong secret");
        }

        if (attempt.RemoteAddress is { } address)
        {
            throttle.RecordFailure(address);
        }

        return refusal;
    }
}
