using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Wal;

namespace Gateway.Sinks;

/// <summary>
/// POSTs each batch as a JSON array of records to a URL over HTTPS, with an <c>Idempotency-Key</c> that is
/// the same every time the same batch is retried. 2xx acknowledges the batch; 408, 429, 5xx, redirects and
/// transport errors are retried (honoring Retry-After); any other 4xx dead-letters it with the response
/// as the reason. A secret from <see cref="SinkOptions.TokenFile"/>, when set, goes with every request.
/// </summary>
public sealed class HttpSink : ISink, IDisposable
{
    /// <summary>The type name in configuration.</summary>
    public const string TypeName = "http";

    /// <summary>Header carrying the batch's idempotency key.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private const int MaxErrorBodyChars = 512;
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json") { CharSet = "utf-8" };
    private readonly HttpClient _client;
    private readonly Uri _url;
    private readonly bool _gzip;
    private readonly SinkSecretFile? _token;
    private readonly string _tokenHeader;

    /// <summary>Creates the sink from its options (validated at start).</summary>
    public HttpSink(SinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Name = options.Name;
        _url = options.Url ?? throw new ArgumentException("An http sink needs a Url.", nameof(options));
        _gzip = options.Gzip;
        _token = options.TokenFile is null ? null : new SinkSecretFile(options.TokenFile);
        _tokenHeader = options.TokenHeader;
        var tls = EgressTls.From(options);
        var handler = new SocketsHttpHandler
        {
            // A redirect would turn the POST into a GET; it is reported as a failure instead.
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = EgressTls.Protocols,
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) => tls.ValidateServerCertificate(certificate, chain, errors),
                ClientCertificates = tls.ClientCertificate is null ? null : [tls.ClientCertificate],
            },
        };

        // The partition's send timeout bounds each request; HttpClient's own would race it.
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The key for a batch: a hash of its message ids, so a retry of the same batch carries the same key.</summary>
    public static string IdempotencyKey(IReadOnlyList<WalRecord> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var record in batch)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(record.MessageId));
            hash.AppendData("\n"u8);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <inheritdoc />
    public async Task<DeliveryResult> DeliverAsync(IReadOnlyList<WalRecord> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = CreateContent(batch) };
        request.Headers.Add(IdempotencyKeyHeader, IdempotencyKey(batch));
        AddToken(request);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            return await ToResultAsync(response, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException error)
        {
            return DeliveryResult.Retry($"{_url.Host}: {error.Message}");
        }
    }

    /// <inheritdoc />
    public void Dispose() => _client.Dispose();

    private void AddToken(HttpRequestMessage request)
    {
        if (_token?.Current is not { Length: > 0 } secret)
        {
            return;
        }

        if (string.Equals(_tokenHeader, "Authorization", StringComparison.OrdinalIgnoreCase))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        }
        else
        {
            request.Headers.TryAddWithoutValidation(_tokenHeader, secret);
        }
    }

    private HttpContent CreateContent(IReadOnlyList<WalRecord> batch)
    {
        var buffer = new ArrayBufferWriter<byte>(batch.Count * 256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var record in batch)
            {
                TelemetryRecordJson.Write(writer, record);
            }

            writer.WriteEndArray();
        }

        HttpContent content;
        if (_gzip)
        {
            var compressed = new MemoryStream(buffer.WrittenCount / 4 + 64);
            using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(buffer.WrittenSpan);
            }

            content = new ByteArrayContent(compressed.GetBuffer(), 0, (int)compressed.Length);
            content.Headers.ContentEncoding.Add("gzip");
        }
        else
        {
            content = new ReadOnlyMemoryContent(buffer.WrittenMemory);
        }

        content.Headers.ContentType = JsonContentType;
        return content;
    }

    private async Task<DeliveryResult> ToResultAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            return DeliveryResult.Delivered;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var error = string.Create(CultureInfo.InvariantCulture,
            $"HTTP {status} {response.ReasonPhrase}: {(body.Length > MaxErrorBodyChars ? body[..MaxErrorBodyChars] : body)}");
        // With a token, 401 and 403 mean the token, not the records: an expired one is renewed, and records wait for it.
        var retryable = status is 408 or 429 || status >= 500 || status < 400 || (_token is not null && status is 401 or 403);
        return retryable ? DeliveryResult.Retry(error, RetryAfter(response)) : DeliveryResult.Permanent(error);
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } when date > DateTimeOffset.UtcNow => date - DateTimeOffset.UtcNow,
        _ => null,
    };
}
