using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gateway.Devices;
using MQTTnet.Protocol;

namespace Gateway.Ingest.Mqtt;

/// <summary>What a connecting client presented: everything authentication looks at.</summary>
/// <param name="UserName">MQTT user name (the device id when authenticating with a secret).</param>
/// <param name="Password">MQTT password (the device secret). Never logged.</param>
/// <param name="Certificate">The client certificate, already validated by the TLS handshake; null without mTLS.</param>
/// <param name="IsSecure">True on the TLS listener.</param>
/// <param name="RemoteEndPoint">The client's address.</param>
public sealed record ConnectAttempt(string? UserName, string? Password, X509Certificate2? Certificate, bool IsSecure, EndPoint? RemoteEndPoint);

/// <summary>Authentication's answer: an identity, or a CONNACK reason code with a counter name and a log detail.</summary>
public sealed record AuthenticationResult(DeviceIdentity? Identity, MqttConnectReasonCode ReasonCode, string Reason, string Detail)
{
    /// <summary>True when the connection may proceed as <see cref="Identity"/>.</summary>
    public bool IsAuthenticated => Identity is not null;

    internal static AuthenticationResult Success(DeviceIdentity identity) => new(identity, MqttConnectReasonCode.Success, "", "");

    internal static AuthenticationResult Refused(MqttConnectReasonCode code, string reason, string detail) => new(null, code, reason, detail);
}

/// <summary>
/// Decides who a connecting client is. A client certificate (validated against the configured CA during the
/// TLS handshake) names the device; otherwise the user name is the device id and the password its secret,
/// checked by the device's <see cref="IDeviceCredentialsGrain"/>; otherwise the client is anonymous, allowed
/// only on the plaintext loopback listener when <see cref="MqttIngestOptions.AllowAnonymous"/> is on.
/// </summary>
public sealed class DeviceAuthenticator(IGrainFactory grains, MqttIngestOptions options)
{
    /// <summary>Authenticates one connection attempt.</summary>
    public async Task<AuthenticationResult> AuthenticateAsync(ConnectAttempt attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        if (attempt.IsSecure && attempt.Certificate is { } certificate)
        {
            return FromCertificate(certificate, attempt.UserName);
        }

        if (attempt.IsSecure && options.RequireClientCertificate)
        {
            return AuthenticationResult.Refused(MqttConnectReasonCode.NotAuthorized, "certificate-required", "no client certificate");
        }

        if (!string.IsNullOrEmpty(attempt.UserName))
        {
            return await FromSecretAsync(attempt.UserName, attempt.Password);
        }

        if (!attempt.IsSecure && options.AllowAnonymous && attempt.RemoteEndPoint is IPEndPoint { Address: var address } && IPAddress.IsLoopback(address))
        {
            return AuthenticationResult.Success(DeviceIdentity.Anonymous);
        }

        return AuthenticationResult.Refused(MqttConnectReasonCode.NotAuthorized, "credentials-required", "no credentials and anonymous access is off here");
    }

    private static AuthenticationResult FromCertificate(X509Certificate2 certificate, string? userName)
    {
        var names = ClientCertificates.DeviceIdsOf(certificate);
        if (!string.IsNullOrEmpty(userName))
        {
            // A user name must be one of the devices the certificate names: it picks among them, never widens them.
            return names.Contains(userName, StringComparer.Ordinal)
                ? AuthenticationResult.Success(new DeviceIdentity(userName, "certificate"))
                : AuthenticationResult.Refused(MqttConnectReasonCode.NotAuthorized, "certificate-mismatch",
                    $"the user name is not a device the certificate names ({string.Join(", ", names)})");
        }

        return names.Count switch
        {
            1 => AuthenticationResult.Success(new DeviceIdentity(names[0], "certificate")),
            0 => AuthenticationResult.Refused(MqttConnectReasonCode.NotAuthorized, "certificate-names-no-device",
                "the certificate's subject CN and SAN name no valid device id"),
            _ => AuthenticationResult.Refused(MqttConnectReasonCode.NotAuthorized, "certificate-ambiguous",
                "the certificate names several devices; send the device id as the user name"),
        };
    }

    private async Task<AuthenticationResult> FromSecretAsync(string userName, string? password)
    {
        if (!DeviceId.IsValid(userName) || string.IsNullOrEmpty(password))
        {
            return AuthenticationResult.Refused(MqttConnectReasonCode.BadUserNameOrPassword, "bad-credentials", "malformed user name or empty password");
        }

        bool verified;
        try
        {
            verified = await grains.GetGrain<IDeviceCredentialsGrain>(userName).VerifyAsync(password);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            return AuthenticationResult.Refused(MqttConnectReasonCode.ServerUnavailable, "unavailable",
                $"the credentials could not be checked ({error.GetType().Name})");
        }

        return verified
            ? AuthenticationResult.Success(new DeviceIdentity(userName, "secret"))
            : AuthenticationResult.Refused(MqttConnectReasonCode.BadUserNameOrPassword, "bad-credentials", "unknown device or wrong secret");
    }
}
