using Microsoft.Extensions.Logging;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Ingest.Tls;

/// <summary>
/// A TLS listener's certificate, read again when its files change, so a renewed certificate (certbot, an ACME
/// client, an operator's copy) is served from the next handshake on without a restart. Every handshake compares
/// the files' sizes and write times, two <c>stat</c>s against a handshake's milliseconds of cryptography. A change
/// that does not load (a key not yet written beside its new certificate) keeps the old certificate and is tried
/// again at the next handshake after the files change once more, so a renewal in two steps is picked up at the second.
/// </summary>
public sealed partial class ReloadingServerCertificate : IDisposable
{
    private readonly ServerCertificateSource _source;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private X509Certificate2 _current;
    private FileStamp _loaded;
    private FileStamp _failed;

    /// <summary>Loads the certificate now: a gateway whose certificate cannot be read does not start.</summary>
    public ReloadingServerCertificate(ServerCertificateSource source, ILogger logger)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _loaded = FileStamp.Of(source);
        _current = ServerCertificate.Load(source);
    }

    /// <summary>The certificate to present: the files' current one, or the last that loaded.</summary>
    public X509Certificate2 Current
    {
        get
        {
            var stamp = FileStamp.Of(_source);
            lock (_lock)
            {
                if (stamp == _loaded || stamp == _failed)
                {
                    return _current;
                }

                try
                {
                    var renewed = ServerCertificate.Load(_source);
                    // The old one is not disposed: a handshake that took it a moment ago may still be using it.
                    _current = renewed;
                    _loaded = stamp;
                    LogReloaded(_logger, _source.CertificatePath, renewed.Subject, renewed.NotAfter);
                }
                catch (Exception error) when (error is IOException or UnauthorizedAccessException
                    or System.Security.Cryptography.CryptographicException or InvalidOperationException or ArgumentException)
                {
                    _failed = stamp;
                    LogReloadFailed(_logger, _source.CertificatePath, error.Message);
                }

                return _current;
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _current.Dispose();

    [LoggerMessage(EventId = 4020, Level = LogLevel.Information, Message = "TLS certificate {Path} changed and was reloaded: {Subject}, valid until {NotAfter:u}")]
    private static partial void LogReloaded(ILogger logger, string path, string subject, DateTime notAfter);

    [LoggerMessage(EventId = 4021, Level = LogLevel.Warning, Message = "TLS certificate {Path} changed but does not load ({Error}); the previous certificate is served until the files change again")]
    private static partial void LogReloadFailed(ILogger logger, string path, string error);

    /// <summary>Size and write time of the certificate and key files: what a renewal changes.</summary>
    private readonly record struct FileStamp(long CertificateLength, DateTime CertificateWritten, long KeyLength, DateTime KeyWritten)
    {
        public static FileStamp Of(ServerCertificateSource source)
        {
            var certificate = new FileInfo(source.CertificatePath);
            var key = string.IsNullOrEmpty(source.KeyPath) ? null : new FileInfo(source.KeyPath);
            return new FileStamp(
                certificate.Exists ? certificate.Length : -1, certificate.Exists ? certificate.LastWriteTimeUtc : default,
                key is { Exists: true } ? key.Length : -1, key is { Exists: true } ? key.LastWriteTimeUtc : default);
        }
    }
}
