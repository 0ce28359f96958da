using System.Globalization;
using System.Text;

namespace Gateway.Benchmarks;

/// <summary>
/// The devices and the ~100-byte JSON message every scenario sends. Each message carries its own
/// <c>messageId</c>, unique per device and sequence, so the gateway never drops one as a retransmission.
/// </summary>
internal static class SampleTelemetry
{
    /// <summary>Sink name of the gateway's default file sink, which the WAL routes name.</summary>
    public const string SinkName = "file";

    /// <summary>Partitions per sink, as DeliveryOptions.PartitionCount defaults to.</summary>
    public const int PartitionCount = 8;

    /// <summary>The id of device number <paramref name="index"/>; the backlog filler's SQL builds the same ids.</summary>
    public static string DeviceId(int index) => string.Create(CultureInfo.InvariantCulture, $"device-{index:D4}");

    /// <summary>The device's own id of its message number <paramref name="sequence"/>.</summary>
    public static string MessageId(string deviceId, long sequence) => string.Create(CultureInfo.InvariantCulture, $"{deviceId}-{sequence}");

    /// <summary>One message as UTF-8 JSON.</summary>
    public static byte[] Json(string deviceId, long sequence) => Encoding.UTF8.GetBytes(JsonText(deviceId, sequence));

    /// <summary>A JSON array of <paramref name="count"/> messages numbered from <paramref name="firstSequence"/>.</summary>
    public static byte[] JsonArray(string deviceId, long firstSequence, int count)
    {
        var text = new StringBuilder("[");
        for (var i = 0; i < count; i++)
        {
            text.Append(i == 0 ? "" : ",").Append(JsonText(deviceId, firstSequence + i));
        }

        return Encoding.UTF8.GetBytes(text.Append(']').ToString());
    }

    private static string JsonText(string deviceId, long sequence) => string.Create(CultureInfo.InvariantCulture,
        $$"""{"messageId":"{{MessageId(deviceId, sequence)}}","temperature":21.37,"humidity":48.2,"battery":3.71,"status":"ok"}""");
}
