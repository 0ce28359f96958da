using Gateway.Devices;

namespace Gateway.Ingest;

/// <summary>
/// The refusal reason names both transports use: in the <c>reason</c> label of the ingest metrics, in HTTP problem
/// bodies and in the logs. A cause has one name whichever transport it arrived on, so one alert or query covers both.
/// </summary>
public static class IngestReasons
{
    /// <summary>No credentials, and anonymous access is off (or not allowed on this listener or from this address).</summary>
    public const string CredentialsRequired = "credentials-required";

    /// <summary>Malformed credentials, an unknown device or a wrong secret.</summary>
    public const string BadCredentials = "bad-credentials";

    /// <summary>A secret sent over plaintext from another machine, where anyone on the way could read it.</summary>
    public const string PlaintextCredentials = "plaintext-credentials";

    /// <summary>The address caused too many failed secret checks lately; refused without a check.</summary>
    public const string AuthenticationThrottled = "authentication-throttled";

    /// <summary>The listener requires a client certificate and none was presented.</summary>
    public const string CertificateRequired = "certificate-required";

    /// <summary>The device claimed is not one the client certificate names.</summary>
    public const string CertificateMismatch = "certificate-mismatch";

    /// <summary>The client certificate's subject CN and SAN name no valid device id.</summary>
    public const string CertificateNamesNoDevice = "certificate-names-no-device";

    /// <summary>The client certificate names several devices and the client did not say which it is.</summary>
    public const string CertificateAmbiguous = "certificate-ambiguous";

    /// <summary>An authenticated device sending as another device.</summary>
    public const string NotAuthorized = "not-authorized";

    /// <summary>The device id breaks the <see cref="DeviceId"/> rules.</summary>
    public const string InvalidDeviceId = "invalid-device-id";

    /// <summary>An MQTT topic that is not a telemetry topic (<see cref="TelemetryTopic"/>) or is too long.</summary>
    public const string TopicInvalid = "topic-invalid";

    /// <summary>A message larger than the limit.</summary>
    public const string PayloadTooLarge = "payload-too-large";

    /// <summary>The gateway could not check or store now (storage, a grain call); nothing was stored, retry later.</summary>
    public const string Unavailable = "unavailable";

    /// <summary>The name of a device grain's refusal.</summary>
    public static string Of(RefusalReason reason) => reason switch
    {
        RefusalReason.InvalidDeviceId => InvalidDeviceId,
        RefusalReason.EmptyBatch => "empty-batch",
        RefusalReason.PayloadTooLarge => PayloadTooLarge,
        RefusalReason.MalformedJson => "malformed-json",
        RefusalReason.Backpressure => "backpressure",
        RefusalReason.DiskFull => "disk-full",
        RefusalReason.StorageUnavailable => Unavailable,
        RefusalReason.NoRoute => "no-route",
        RefusalReason.DeviceDisabled => "device-disabled",
        _ => "refused",
    };
}
