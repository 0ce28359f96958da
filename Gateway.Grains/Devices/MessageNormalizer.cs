using System.Text.Unicode;
using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Wal;

namespace Gateway.Devices;

/// <summary>
/// Validates one incoming message and decides the media type it is stored under: a declared JSON type
/// (<c>application/json</c>, <c>*+json</c>) must parse and is stored as <c>application/json</c>; with no
/// declared type, a payload that parses as a JSON object or array is JSON, anything else opaque.
/// </summary>
public static class MessageNormalizer
{
    private const int MaxContentTypeLength = 255;
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    /// <summary>The stored media type, or the refusal and its reason.</summary>
    public static (RefusalReason Refusal, string? Detail, string ContentType) Normalize(IncomingMessage message, int maxMessageBytes)
    {
        ArgumentNullException.ThrowIfNull(message);
        var payload = message.Payload.Span;
        if (payload.Length > maxMessageBytes)
        {
            return (RefusalReason.PayloadTooLarge, $"The payload has {payload.Length} bytes; the limit is {maxMessageBytes}.", "");
        }

        if (string.IsNullOrWhiteSpace(message.ContentType))
        {
            var looksLikeJson = FirstNonWhitespace(payload) is (byte)'{' or (byte)'[';
            return (RefusalReason.None, null, looksLikeJson && IsValidJson(payload, out _) ? MediaTypes.Json : MediaTypes.OctetStream);
        }

        if (message.ContentType.Length > MaxContentTypeLength || !MediaTypeHeaderValue.TryParse(message.ContentType, out var mediaType)
            || mediaType.MediaType is null)
        {
            return (RefusalReason.MalformedJson, $"The content type '{Truncate(message.ContentType)}' is not a media type.", "");
        }

        if (!IsJsonMediaType(mediaType.MediaType))
        {
            return (RefusalReason.None, null, mediaType.MediaType.ToLowerInvariant());
        }

        return IsValidJson(payload, out var error)
            ? (RefusalReason.None, null, MediaTypes.Json)
            : (RefusalReason.MalformedJson, $"The payload is not valid JSON: {error}", "");
    }

    /// <summary>True for <c>application/json</c> and structured-syntax <c>+json</c> types.</summary>
    public static bool IsJsonMediaType(string mediaType) =>
        mediaType.Equals(MediaTypes.Json, StringComparison.OrdinalIgnoreCase)
        || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads the whole payload as one JSON value without allocating a document.</summary>
    public static bool IsValidJson(ReadOnlySpan<byte> payload, out string? error)
    {
        // JSON is UTF-8 (RFC 8259), and the reader does not check the bytes inside strings; sinks embed this payload as JSON.
        if (!Utf8.IsValid(payload))
        {
            error = "the payload is not valid UTF-8";
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(payload, ReaderOptions);
            while (reader.Read())
            {
            }

            error = null;
            return true;
        }
        catch (JsonException exception)
        {
            error = exception.Message;
            return false;
        }
    }

    private static byte FirstNonWhitespace(ReadOnlySpan<byte> payload)
    {
        foreach (var b in payload)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return b;
            }
        }

        return 0;
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "...";
}
