using Gateway.Load.Load;

namespace Gateway.Load.Check;

/// <summary>Reads a file of acknowledged message keys, as <c>run --acked</c> writes it.</summary>
internal static class AcknowledgedIds
{
    public static void Read(string path, DeliveryCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        foreach (var line in File.ReadLines(path))
        {
            if (MessageKey.FromLine(line) is { } key)
            {
                check.Acknowledged(key);
            }
        }
    }
}
