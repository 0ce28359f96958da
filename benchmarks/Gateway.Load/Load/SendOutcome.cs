namespace Gateway.Load.Load;

/// <summary>What became of one message sent to the gateway.</summary>
internal enum SendOutcome
{
    /// <summary>Acknowledged (PUBACK success, HTTP 202), or sent at QoS 0.</summary>
    Acknowledged,

    /// <summary>The gateway answered and refused it (MQTT 5 reason code, HTTP 4xx/5xx): send it again later.</summary>
    Refused,

    /// <summary>No answer: the connection broke or timed out. Reconnect and send it again.</summary>
    Lost,
}
