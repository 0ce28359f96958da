using Gateway.Devices;

namespace Gateway.Ingest.Mqtt;

/// <summary>
/// The telemetry topic: <c>devices/{deviceId}/telemetry</c>, optionally followed by more levels
/// (<c>devices/{deviceId}/telemetry/engine/temperature</c>). The device id follows <see cref="DeviceId"/>;
/// no level may be empty or hold a wildcard.
/// </summary>
public static class TelemetryTopic
{
    private const string Prefix = "devices/";
    private const string Telemetry = "telemetry";

    /// <summary>The device id a telemetry topic names, or null when <paramref name="topic"/> is not a telemetry topic.</summary>
    public static string? DeviceIdOf(string? topic)
    {
        if (topic is null || !topic.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = topic.AsSpan(Prefix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0)
        {
            return null;
        }

        var deviceId = rest[..slash];
        rest = rest[(slash + 1)..];
        if (!rest.StartsWith(Telemetry, StringComparison.Ordinal))
        {
            return null;
        }

        rest = rest[Telemetry.Length..];
        if (!rest.IsEmpty && !IsSubtopic(rest))
        {
            return null;
        }

        var id = deviceId.ToString();
        return DeviceId.IsValid(id) ? id : null;
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
