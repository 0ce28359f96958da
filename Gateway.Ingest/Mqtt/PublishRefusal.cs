using Gateway.Devices;
using MQTTnet.Protocol;

namespace Gateway.Ingest.Mqtt;

/// <summary>Why a PUBLISH was not stored: the MQTT 5 PUBACK reason code, a stable counter name and a sentence for the client.</summary>
public readonly record struct PublishRefusal(MqttPubAckReasonCode ReasonCode, string Reason, string Detail)
{
    /// <summary>The topic is not <c>devices/{deviceId}/telemetry[/...]</c> or is too long.</summary>
    public static PublishRefusal TopicInvalid(string detail) => new(MqttPubAckReasonCode.TopicNameInvalid, IngestReasons.TopicInvalid, detail);

    /// <summary>The topic has the telemetry form, but its device id breaks the <see cref="DeviceId"/> rules.</summary>
    public static PublishRefusal InvalidDeviceId(string detail) => new(MqttPubAckReasonCode.TopicNameInvalid, IngestReasons.InvalidDeviceId, detail);

    /// <summary>The connection's identity is not the topic's device.</summary>
    public static PublishRefusal NotAuthorized(string detail) => new(MqttPubAckReasonCode.NotAuthorized, IngestReasons.NotAuthorized, detail);

    /// <summary>
    /// Maps a device grain's refusal. Refusals that pass (backpressure, full disk) are QuotaExceeded, the code MQTT 5
    /// gives for "try later"; a message the gateway will never take carries the code that says why.
    /// </summary>
    public static PublishRefusal From(AcceptResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var detail = result.Detail ?? "The gateway did not store the message.";
        var reason = IngestReasons.Of(result.Refusal);
        return result.Refusal switch
        {
            RefusalReason.Backpressure or RefusalReason.DiskFull => new(MqttPubAckReasonCode.QuotaExceeded, reason, detail),
            RefusalReason.MalformedJson => new(MqttPubAckReasonCode.PayloadFormatInvalid, reason, detail),
            RefusalReason.InvalidDeviceId => new(MqttPubAckReasonCode.TopicNameInvalid, reason, detail),
            // Disabled by an operator: the device may not publish now, which is what NotAuthorized says.
            RefusalReason.DeviceDisabled => new(MqttPubAckReasonCode.NotAuthorized, reason, detail),
            // No sink takes the topic: an error, not the success-class NoMatchingSubscribers, since nothing was stored.
            RefusalReason.NoRoute => new(MqttPubAckReasonCode.ImplementationSpecificError, reason, detail),
            _ => new(MqttPubAckReasonCode.UnspecifiedError, reason, detail),
        };
    }
}
