namespace Gateway.Devices;

/// <summary>
/// The one telemetry topic format, for every transport: <c>devices/{deviceId}/telemetry</c>, optionally followed by
/// more levels (<c>devices/{deviceId}/telemetry/engine/temperature</c>). The device id follows <see cref="DeviceId"/>;
/// no level may be empty or hold a wildcard. HTTP messages are stored under the bare form, MQTT ones under the
/// topic they were published to; sink routes, the live tail and subscriptions all match against it.
/// </summary>
public static class TelemetryTopic
{
    private const string Root = "devices/";
    private const string Telemetry = "telemetry";

    /// <summary>What <see cref="Parse"/> found.</summary>
    public enum Shape
    {
        /// <summary>A telemetry topic of a valid device id.</summary>
        Valid,

        /// <summary>Not of the form <c>devices/{id}/telemetry[/...]</c>.</summary>
        NotTelemetry,

        /// <summary>Of the telemetry form, but the id is not a valid <see cref="DeviceId"/>.</summary>
        InvalidDeviceId,
    }

    /// <summary>The topic a device's telemetry is stored under when the transport names none (HTTP).</summary>
    public static string Of(string deviceId) => $"{Root}{deviceId}/{Telemetry}";

    /// <summary>The prefix of every topic of <paramref name="deviceId"/> (<c>devices/{id}/</c>): what a device may subscribe under.</summary>
    public static string DevicePrefix(string deviceId) => $"{Root}{deviceId}/";

    /// <summary>The device id a topic or topic filter names in its second level (<c>devices/{id}/...</c>), or null.</summary>
    public static string? DeviceOf(string? topicOrFilter) =>
        topicOrFilter?.Split('/') is ["devices", var device, ..] && DeviceId.IsValid(device) ? device : null;

    /// <summary>The device id a telemetry topic names, or null when <paramref name="topic"/> is not a valid telemetry topic.</summary>
    public static string? DeviceIdOf(string? topic) => Parse(topic, out var deviceId) == Shape.Valid ? deviceId : null;

    /// <summary>Reads a published topic: its shape, and the device id when it is <see cref="Shape.Valid"/>.</summary>
    public static Shape Parse(string? topic, out string? deviceId)
    {
        deviceId = null;
        if (topic is null || !topic.StartsWith(Root, StringComparison.Ordinal))
        {
            return Shape.NotTelemetry;
        }

        var rest = topic.AsSpan(Root.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0)
        {
            return Shape.NotTelemetry;
        }

        var idSpan = rest[..slash];
        rest = rest[(slash + 1)..];
        if (!rest.StartsWith(Telemetry, StringComparison.Ordinal))
        {
            return Shape.NotTelemetry;
        }

        rest = rest[Telemetry.Length..];
        if (!rest.IsEmpty && !IsSubtopic(rest))
        {
            return Shape.NotTelemetry;
        }

        var id = idSpan.ToString();
        if (!DeviceId.IsValid(id))
        {
            return Shape.InvalidDeviceId;
        }

        deviceId = id;
        return Shape.Valid;
    }

    // "/level[/level...]": every level non-empty and free of wildcards and control characters.
    private static bool IsSubtopic(ReadOnlySpan<char> rest)
    {
        if (rest[0] != '/')
        {
            return false;
        }

        var levelLength = 0;
        for (var i = 1; i < rest.Length; i++)
        {
            var c = rest[i];
            if (c == '/')
            {
                if (levelLength == 0)
                {
                    return false;
                }

                levelLength = 0;
                continue;
            }

            if (c is '+' or '#' || char.IsControl(c))
            {
                return false;
            }

            levelLength++;
        }

        return levelLength > 0;
    }
}
