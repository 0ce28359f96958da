using System.Globalization;

namespace Gateway.Devices;

/// <summary>The stable message id <c>{gatewayId}:{deviceId}:{sequence}</c> the device grain gives each message.</summary>
public static class MessageId
{
    /// <summary>Reads the device id and sequence out of a message id; false when it does not have that form.</summary>
    public static bool TryParse(string? messageId, out string deviceId, out long sequence)
    {
        deviceId = "";
        sequence = 0;
        if (string.IsNullOrEmpty(messageId))
        {
            return false;
        }

        // Device ids hold no ':', so the last two separators delimit it whatever the gateway id holds.
        var last = messageId.LastIndexOf(':');
        var previous = last > 0 ? messageId.LastIndexOf(':', last - 1) : -1;
        if (previous <= 0
            || !long.TryParse(messageId.AsSpan(last + 1), NumberStyles.None, CultureInfo.InvariantCulture, out sequence)
            || sequence <= 0)
        {
            return false;
        }

        deviceId = messageId[(previous + 1)..last];
        return DeviceId.IsValid(deviceId);
    }
}
