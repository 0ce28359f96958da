using System.Buffers;
using Gateway.Devices;
using Gateway.Ingest.Telemetry;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Gateway.Ingest.Mqtt;

/// <summary>
/// Handles one PUBLISH: checks topic, identity and size, hands the message to its device grain and sets the
/// PUBACK from the outcome. MQTTnet awaits this before it queues the PUBACK, so a QoS 1 message is
/// acknowledged only after the WAL commit that holds it. A refusal is a PUBACK reason code for MQTT 5 and a
/// closed connection without PUBACK for MQTT 3.1.1 (which has no codes), so the client sends it again later.
/// </summary>
public sealed partial class TelemetryPublishHandler(
    IGrainFactory grains,
    DeviceConnections connections,
    MqttIngestMetrics metrics,
    IngestTelemetry telemetry,
    MqttIngestOptions options,
    ILogger<TelemetryPublishHandler> logger)
{
    /// <summary>Transport name recorded with MQTT messages.</summary>
    public const string Transport = "mqtt";

    /// <summary>MQTT 5 user property carrying the device's own message id, used to drop retransmissions.</summary>
    public const string MessageIdProperty = "message-id";

    /// <summary>MQTT 5 user property carrying the W3C trace context of the publish.</summary>
    public const string TraceParentProperty = "traceparent";

    private const int MaxTraceParentLength = 256;
    private const int MaxDeviceMessageIdLength = 256;
    private readonly GrainReferences<IDeviceGrain> _devices = new(grains);

    /// <summary>Set by the hosting service: closes a connection with an MQTT 5 DISCONNECT reason code.</summary>
    internal Func<string, MqttDisconnectReasonCode, string, Task>? Disconnect { get; set; }

    /// <summary>The InterceptingPublish handler.</summary>
    public async Task HandleAsync(InterceptingPublishEventArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);

        // Telemetry goes to the WAL, not to other clients, unless fan-out is configured (and then only once stored).
        args.ProcessPublish = false;
        var message = args.ApplicationMessage;
        var qos = (int)message.QualityOfServiceLevel;
        var connection = connections.Find(args.ClientId);
        if (connection is null)
        {
            // Not admitted (or already gone): never store, never acknowledge.
            args.CloseConnection = true;
            metrics.Refused(IngestReasons.NotAuthorized, qos);
            return;
        }

        var topic = message.Topic;
        if (topic is null || topic.Length > options.MaxTopicLength)
        {
            Refuse(args, connection, qos, PublishRefusal.TopicInvalid($"The topic is longer than {options.MaxTopicLength} characters."));
            return;
        }

        switch (TelemetryTopic.Parse(topic, out var parsedId))
        {
            case TelemetryTopic.Shape.NotTelemetry:
                Refuse(args, connection, qos, PublishRefusal.TopicInvalid($"Publish telemetry to {TelemetryTopic.Of("{deviceId}")}[/...]."));
                return;
            case TelemetryTopic.Shape.InvalidDeviceId:
                Refuse(args, connection, qos, PublishRefusal.InvalidDeviceId(
                    $"The device id in the topic must be 1-{DeviceId.MaxLength} letters, digits, '-', '_' or '.', starting with a letter or digit."));
                return;
        }

        var deviceId = parsedId!;

        if (!connection.Identity.MayPublishAs(deviceId))
        {
            Refuse(args, connection, qos, PublishRefusal.NotAuthorized($"This connection is device '{connection.Identity}' and may publish only under {TelemetryTopic.Of(connection.Identity.ToString())}."));
            return;
        }

        if (message.Payload.Length > options.MaxPayloadBytes)
        {
            await CloseTooLargeAsync(args, connection, qos);
            return;
        }

        // The stored trace context is the ingest span's (a child of the device's traceparent), so the delivery,
        // however late, continues the device's trace through the gateway.
        var deviceTraceParent = UserProperty(message, TraceParentProperty, MaxTraceParentLength);
        using var activity = IngestTelemetry.StartIngest(Transport, deviceId, deviceTraceParent, deviceTraceState: null);
        var incoming = new IncomingMessage(
            message.Payload.ToArray(),
            string.IsNullOrEmpty(message.ContentType) ? null : message.ContentType,
            UserProperty(message, MessageIdProperty, MaxDeviceMessageIdLength),
            IngestTelemetry.TraceParentToStore(activity, deviceTraceParent),
            Transport,
            topic);

        AcceptResult result;
        try
        {
            result = await _devices.Get(deviceId).AcceptAsync([incoming]);
        }
        catch (Exception error)
        {
            // The outcome is unknown (a timeout may still commit): no PUBACK, the client sends it again.
            metrics.Refused(IngestReasons.Unavailable, qos);
            telemetry.Refused(Transport, IngestReasons.Unavailable, activity);
            LogAcceptFailed(logger, error, deviceId, args.ClientId);
            args.CloseConnection = true;
            return;
        }

        if (result.IsAccepted)
        {
            metrics.Accepted(qos);
            var duplicates = result.Messages.Count(stored => stored.Duplicate);
            telemetry.Accepted(Transport, result.Messages.Count - duplicates, duplicates);
            args.ProcessPublish = options.ForwardToSubscribers;
            return;
        }

        if (result.Refusal == RefusalReason.PayloadTooLarge)
        {
            await CloseTooLargeAsync(args, connection, qos);
            return;
        }

        Refuse(args, connection, qos, PublishRefusal.From(result));
    }

    private void Refuse(InterceptingPublishEventArgs args, ConnectedDevice connection, int qos, PublishRefusal refusal)
    {
        metrics.Refused(refusal.Reason, qos);
        telemetry.Refused(Transport, refusal.Reason, System.Diagnostics.Activity.Current);
        LogRefused(logger, args.ClientId, connection.Identity.ToString(), refusal.Reason, (int)refusal.ReasonCode, qos);
        if (qos == 0)
        {
            // Best effort: nothing to answer; counted.
            return;
        }

        if (connection.Protocol == MqttProtocolVersion.V500)
        {
            args.Response.ReasonCode = refusal.ReasonCode;
            args.Response.ReasonString = refusal.Detail;
        }
        else
        {
            // MQTT 3.1.1 has no PUBACK codes: a PUBACK would claim the message was stored.
            args.CloseConnection = true;
        }
    }

    private async Task CloseTooLargeAsync(InterceptingPublishEventArgs args, ConnectedDevice connection, int qos)
    {
        metrics.Refused(IngestReasons.PayloadTooLarge, qos);
        telemetry.Refused(Transport, IngestReasons.PayloadTooLarge, null);
        LogRefused(logger, args.ClientId, connection.Identity.ToString(), IngestReasons.PayloadTooLarge, (int)MqttDisconnectReasonCode.PacketTooLarge, qos);

        // MQTT 5 has no PUBACK code for size: past the advertised Maximum Packet Size the answer is DISCONNECT 0x95.
        if (connection.Protocol == MqttProtocolVersion.V500 && Disconnect is { } disconnect)
        {
            await disconnect(args.ClientId, MqttDisconnectReasonCode.PacketTooLarge,
                $"The payload is larger than {options.MaxPayloadBytes} bytes.");
        }

        args.CloseConnection = true;
    }

    private static string? UserProperty(MqttApplicationMessage message, string name, int maxLength)
    {
        var properties = message.UserProperties;
        if (properties is null)
        {
            return null;
        }

        foreach (var property in properties)
        {
            if (string.Equals(property.Name, name, StringComparison.Ordinal))
            {
                var value = property.ReadValueAsString();
                return string.IsNullOrEmpty(value) || value.Length > maxLength ? null : value;
            }
        }

        return null;
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Debug, Message = "MQTT publish of client {ClientId} ({Identity}) refused: {Reason} (0x{ReasonCode:x2}, QoS {Qos})")]
    private static partial void LogRefused(ILogger logger, string clientId, string identity, string reason, int reasonCode, int qos);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Handing an MQTT message of device {DeviceId} (client {ClientId}) to its grain failed; no PUBACK, the connection is closed so the client sends it again")]
    private static partial void LogAcceptFailed(ILogger logger, Exception error, string deviceId, string clientId);
}
