using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Devices;

namespace Gateway.Ingest.Tls;

/// <summary>
/// Device client certificates: valid when they chain to one of the configured CA certificates (and only
/// those: the system trust store plays no part) and allow client authentication; the device they name is
/// the subject CN or a DNS name of the subject alternative name.
/// </summary>
public sealed class ClientCertificates(X509Certificate2Collection trustedCas, bool required)
{
    private const string ClientAuthenticationOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>TLS callback: accepts a missing certificate unless one is required, and a present one only if it validates.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return !required;
        }

        using var presented = certificate as X509Certificate2 is { } typed ? new X509Certificate2(typed) : new X509Certificate2(certificate);
        return IsTrusted(presented, chain);
    }

    /// <summary>True when <paramref name="certificate"/> chains to a configured CA and may be used for client authentication.</summary>
    public bool IsTrusted(X509Certificate2 certificate, X509Chain? presentedChain = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trustedCas);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ClientAuthenticationOid));
        if (presentedChain is not null)
        {
            // Intermediates the client sent with its certificate; trust still has to end at a configured CA.
            foreach (var element in presentedChain.ChainElements)
            {
                if (!element.Certificate.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
                {
                    chain.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }
        }

        return chain.Build(certificate);
    }

    /// <summary>The distinct valid device ids a certificate names: its subject CN and its SAN DNS names.</summary>
    public static IReadOnlyList<string> DeviceIdsOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var names = new List<string>();
        var commonName = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        Add(names, commonName);
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                foreach (var dns in san.EnumerateDnsNames())
                {
                    Add(names, dns);
                }
            }
        }

        return names;

        static void Add(List<string> names, string? name)
        {
            if (DeviceId.IsValid(name) && !names.Contains(name!, StringComparer.Ordinal))
            {
                names.Add(name!);
            }
        }
    }

    /// <summary>Loads the CA certificates of a PEM bundle; <paramref name="setting"/> names its configuration key in the error.</summary>
    public static X509Certificate2Collection LoadBundle(string path, string setting)
    {
        var collection = new X509Certificate2Collection();
        collection.ImportFromPemFile(path);
        if (collection.Count == 0)
        {
            throw new InvalidOperationException($"{setting} '{path}' holds no PEM certificate.");
        }

        return collection;
    }
}
