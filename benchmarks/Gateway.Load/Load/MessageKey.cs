using System.Globalization;

namespace Gateway.Load.Load;

/// <summary>
/// What the load generator and the checker match a message on: the device and its own message number,
/// which every message carries in its payload (<c>n</c>) and as its device message id.
/// </summary>
internal readonly record struct MessageKey(string DeviceId, long Number)
{
    /// <summary>The device's own message id: the gateway drops a retransmission of it as a duplicate.</summary>
    public string DeviceMessageId => string.Create(CultureInfo.InvariantCulture, $"{DeviceId}-{Number}");

    /// <summary>One line of the acknowledged-id file.</summary>
    public string ToLine() => string.Create(CultureInfo.InvariantCulture, $"{DeviceId} {Number}");

    /// <summary>Reads a line written by <see cref="ToLine"/>; null for a torn or foreign line.</summary>
    public static MessageKey? FromLine(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        return space > 0 && long.TryParse(line.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            ? new MessageKey(line[..space], number)
            : null;
    }
}
