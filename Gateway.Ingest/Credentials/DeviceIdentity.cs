namespace Gateway.Ingest.Credentials;

/// <summary>Who a connection or request authenticated as.</summary>
/// <param name="DeviceId">The device, or null for an anonymous first-run connection.</param>
/// <param name="Method">How it authenticated: <c>secret</c>, <c>certificate</c> or <c>anonymous</c>.</param>
public sealed record DeviceIdentity(string? DeviceId, string Method)
{
    /// <summary>A client without credentials on a loopback plaintext listener, in first-run mode.</summary>
    public static DeviceIdentity Anonymous { get; } = new(null, "anonymous");

    /// <summary>True for <see cref="Anonymous"/>.</summary>
    public bool IsAnonymous => DeviceId is null;

    /// <summary>A device may publish only under its own id; an anonymous connection under any.</summary>
    public bool MayPublishAs(string deviceId) => DeviceId is null || string.Equals(DeviceId, deviceId, StringComparison.Ordinal);

    /// <summary>The name used in logs and counters.</summary>
    public override string ToString() => DeviceId ?? "(anonymous)";
}
