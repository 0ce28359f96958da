using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Ingest.Credentials;

/// <summary>What a client presented, whatever the transport: everything the credential check looks at.</summary>
/// <param name="DeviceId">
/// The device the client says it is: the MQTT user name, the HTTP Basic user name, or (for an HTTPS request with a
/// certificate and no Basic credentials) the device of the path. Null or empty when it says nothing.
/// </param>
/// <param name="Secret">The device secret (MQTT password, HTTP Basic password); null or empty when none was sent. Never logged.</param>
/// <param name="Certificate">The client certificate, already validated by the TLS handshake; null without one.</param>
/// <param name="IsSecure">True when the connection is TLS.</param>
/// <param name="RemoteAddress">The client's address; null when the transport does not know it.</param>
public sealed record CredentialAttempt(string? DeviceId, string? Secret, X509Certificate2? Certificate, bool IsSecure, IPAddress? RemoteAddress)
{
    /// <summary>True when the client came over loopback, so nothing it sent crossed a network.</summary>
    public bool IsFromLoopback => RemoteAddress is { } address && IPAddress.IsLoopback(address);
}

/// <summary>What one listener allows, from its transport's settings.</summary>
/// <param name="AllowAnonymous">Clients without credentials may send as any device (first-run mode), from loopback over plaintext only.</param>
/// <param name="RequireClientCertificate">A TLS client must present a valid certificate.</param>
/// <param name="AllowPlaintextCredentials">Secrets are taken over plaintext from other machines too (a network the operator trusts).</param>
public sealed record ListenerPolicy(bool AllowAnonymous, bool RequireClientCertificate, bool AllowPlaintextCredentials);

/// <summary>The check's answer: an identity, or a refusal with its reason name (<see cref="IngestReasons"/>) and a detail for the client and the log.</summary>
public sealed record CredentialResult(DeviceIdentity? Identity, string Reason, string Detail)
{
    /// <summary>True when the client may go on as <see cref="Identity"/>.</summary>
    public bool IsAuthenticated => Identity is not null;

    internal static CredentialResult Success(DeviceIdentity identity) => new(identity, "", "");

    internal static CredentialResult Refused(string reason, string detail) => new(null, reason, detail);
}
