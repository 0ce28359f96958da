using Gateway.Devices;
using MQTTnet.Protocol;

namespace Gateway.Ingest.Mqtt;

/// <summary>Why a PUBLISH was not stored: the MQTT 5 PUBACK reason code, a stable counter name and a sentence for the client.</summary>
public readonly record struct PublishRefusal(MqttPubAckReasonCode ReasonCode, string Reason, string Detail)
{
    /// <summary>The topic is not <c>devices/{deviceId}/telemetry[/...]</c> or is too long.</summary>
    public static PublishRefusal TopicInvalid(string detail) => new(MqttPubAckReasonCode.TopicNameInvalid, "topic-invalid", detail);

    /// <summary>The connection's identity is not the topic's device.</summary>
    public static PublishRefusal NotAuthorized(string detail) => new(MqttPubAckReasonCode.NotAuthorized, "not-authorized", detail);

    /// <summary>
    /// Maps a device grain's refusal. Refusals that pass (backpressure, full disk) are QuotaExceeded, the code MQTT 5
    /// gives for "try later"; a message the gateway will never take carries the code that says why.
    /// </summary>
    public static PublishRefusal From(AcceptResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var detail = result.Detail ?? "The gateway did not store the message.";
        return result.Refusal switch
        {
            RefusalReason.Backpressure => new(MqttPubAckReasonCode.QuotaExceeded, "backpressure", detail),
            RefusalReason.DiskFull => new(MqttPubAckReasonCode.QuotaExceeded, "disk-full", detail),
            RefusalReason.MalformedJson => new(MqttPubAckReasonCode.PayloadFormatInvalid, "malformed-json", detail),
            RefusalReason.InvalidDeviceId => new(MqttPubAckReasonCode.TopicNameInvalid, "topic-invalid", detail),
            // Disabled by an operator: the device may not publish now, which is what NotAuthorized says.
            RefusalReason.DeviceDisabled => new(MqttPubAckReasonCode.NotAuthorized, "device-disabled", detail),
            RefusalReason.StorageUnavailable => new(MqttPubAckReasonCode.UnspecifiedError, "unavailable", detail),
            // No sink takes the topic: an error, not the success-class NoMatchingSubscribers, since nothing was stored.
            RefusalReason.NoRoute => new(MqttPubAckReasonCode.ImplementationSpecificError, "no-route", detail),
            _ => new(MqttPubAckReasonCode.UnspecifiedError, "refused", detail),
        };
    }
}
