using System.Text.Unicode;
using System.Text.Json;

namespace Gateway.Ingest.Http;

/// <summary>
/// Splits a JSON request body into messages without copying it: an object is one message, an array a
/// batch of its elements, any other JSON value one message. A top-level string property <c>messageId</c>
/// of an object is the device's own message id, used to drop retransmissions.
/// </summary>
internal static class TelemetryBodyParser
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    /// <summary>One message's place in the body.</summary>
    internal readonly record struct Element(int Start, int Length, string? DeviceMessageId);

    /// <summary>The messages of <paramref name="body"/>, or the reason it is not acceptable.</summary>
    public static (List<Element>? Elements, string? Error) Parse(ReadOnlySpan<byte> body, int maxElements)
    {
        if (body.Trim(" \t\r\n"u8).IsEmpty)
        {
            return (null, "The body is empty; a JSON object or array was expected.");
        }

        // JSON is UTF-8 (RFC 8259), and the reader does not check the bytes inside strings; sinks embed these messages as JSON.
        if (!Utf8.IsValid(body))
        {
            return (null, "The body is not valid UTF-8.");
        }

        var reader = new Utf8JsonReader(body, ReaderOptions);
        try
        {
            reader.Read();

            var elements = new List<Element>();
            if (reader.TokenType == JsonTokenType.StartArray)
            {
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (elements.Count == maxElements)
                    {
                        return (null, $"The batch holds more than {maxElements} messages.");
                    }

                    elements.Add(ReadElement(ref reader));
                }

                if (elements.Count == 0)
                {
                    return (null, "The batch is an empty array.");
                }
            }
            else
            {
                elements.Add(ReadElement(ref reader));
            }

            // Anything after the first value makes the reader throw: a body is one JSON value.
            reader.Read();
            return (elements, null);
        }
        catch (JsonException error)
        {
            return (null, $"The body is not valid JSON: {error.Message}");
        }
    }

    /// <summary>True when the batch-size error came from too many elements (413), not bad JSON (400).</summary>
    public static bool IsTooManyMessages(string error) => error.StartsWith("The batch holds more than", StringComparison.Ordinal);

    private static Element ReadElement(ref Utf8JsonReader reader)
    {
        var start = (int)reader.TokenStartIndex;
        string? deviceMessageId = null;
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            var depth = reader.CurrentDepth;
            while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1)
                {
                    var isMessageId = reader.ValueTextEquals("messageId"u8);
                    reader.Read();
                    if (isMessageId && reader.TokenType == JsonTokenType.String)
                    {
                        deviceMessageId = reader.GetString();
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
        }
        else
        {
            reader.Skip();
        }

        return new Element(start, (int)reader.BytesConsumed - start, deviceMessageId);
    }
}
