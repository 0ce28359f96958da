namespace Gateway.Load.Load;

/// <summary>How the load reaches the gateway.</summary>
internal enum Transport
{
    /// <summary>MQTT 5, QoS 0: fire and forget, nothing to acknowledge.</summary>
    MqttQos0,

    /// <summary>MQTT 5, QoS 1: acknowledged by PUBACK.</summary>
    MqttQos1,

    /// <summary><c>POST /v1/devices/{id}/telemetry</c>: acknowledged by 202.</summary>
    Http,
}
