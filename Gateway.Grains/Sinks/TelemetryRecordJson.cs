using System.Text.Json;
using Gateway.Wal;

namespace Gateway.Sinks;

/// <summary>
/// The JSON form of one delivered record, shared by sinks: message id, device, sequence, topic,
/// received-at, content type, trace context, and the payload itself when it is JSON (base64 otherwise).
/// </summary>
public static class TelemetryRecordJson
{
    /// <summary>Writes <paramref name="record"/> as one JSON object.</summary>
    public static void Write(Utf8JsonWriter writer, WalRecord record)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(record);
        writer.WriteStartObject();
        writer.WriteString("messageId", record.MessageId);
        writer.WriteString("deviceId", record.DeviceId);
        writer.WriteNumber("sequence", record.Sequence);
        writer.WriteString("topic", record.Topic);
        writer.WriteString("receivedAt", record.ReceivedAt);
        writer.WriteString("contentType", record.ContentType);
        if (record.TraceParent is not null)
        {
            writer.WriteString("traceparent", record.TraceParent);
        }

        if (record.IsJson)
        {
            writer.WritePropertyName("payload");
            // Validated at ingest, so it is embedded as sent instead of being parsed again.
            writer.WriteRawValue(record.Payload, skipInputValidation: true);
        }
        else
        {
            writer.WriteBase64String("payloadBase64", record.Payload);
        }

        writer.WriteEndObject();
    }
}
