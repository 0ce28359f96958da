namespace Gateway.Devices;

/// <summary>The rules a device id follows, shared by ingest (to answer early) and the device grain.</summary>
public static class DeviceId
{
    /// <summary>Longest accepted device id, in characters.</summary>
    public const int MaxLength = 128;

    /// <summary>
    /// A device id is 1-128 characters of ASCII letters, digits, '-', '_' and '.', starting with a letter
    /// or digit: safe in an MQTT topic level, a URL segment, a file name and a message id.
    /// </summary>
    public static bool IsValid(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength || !char.IsAsciiLetterOrDigit(value[0]))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
