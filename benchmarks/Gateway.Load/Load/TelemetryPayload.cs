using System.Globalization;
using System.Text;

namespace Gateway.Load.Load;

/// <summary>
/// The JSON body of one load message: its device message id, its number and padding up to the requested size,
/// so that a sink's record can be traced back to the message that was acknowledged.
/// </summary>
internal sealed class TelemetryPayload(int sizeBytes)
{
    /// <summary>The UTF-8 JSON for <paramref name="key"/>; never shorter than its fields need, padded to the size otherwise.</summary>
    public byte[] Create(MessageKey key)
    {
        var head = string.Create(CultureInfo.InvariantCulture, $"{{\"messageId\":\"{key.DeviceMessageId}\",\"n\":{key.Number},\"pad\":\"");
        const string Tail = "\"}";
        var padding = Math.Max(0, sizeBytes - head.Length - Tail.Length);
        return Encoding.UTF8.GetBytes(string.Concat(head, new string('x', padding), Tail));
    }
}
