using System.Text.Json;
using Gateway.Load.Load;

namespace Gateway.Load.Check;

/// <summary>
/// Reads sink output: NDJSON records as the file sink writes them (and <c>receive</c> stores what the http sink
/// posts), each with <c>deviceId</c> and the load message's JSON <c>payload</c> carrying its number <c>n</c>.
/// A folder stands for its <c>*.ndjson</c> files in name order, which is the order the file sink created them.
/// </summary>
internal static class SinkRecords
{
    /// <summary>The files behind <paramref name="path"/>, a file or a folder.</summary>
    public static IEnumerable<string> Files(string path) =>
        Directory.Exists(path)
            ? Directory.GetFiles(path, "*.ndjson").Order(StringComparer.Ordinal)
            : File.Exists(path) ? [path] : throw new FileNotFoundException($"No sink output at '{path}'.", path);

    /// <summary>Feeds every record of <paramref name="file"/>, in order, to <paramref name="check"/>.</summary>
    public static void Read(string file, DeliveryCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (Parse(line) is { } key)
            {
                check.Received(key);
            }
            else
            {
                check.Unreadable();
            }
        }
    }

    /// <summary>The key of one record, or null when the line is torn or not a load message.</summary>
    public static MessageKey? Parse(string line)
    {
        try
        {
            using var record = JsonDocument.Parse(line);
            var root = record.RootElement;
            return root.TryGetProperty("deviceId", out var device) && device.ValueKind == JsonValueKind.String
                && root.TryGetProperty("payload", out var payload) && payload.ValueKind == JsonValueKind.Object
                && payload.TryGetProperty("n", out var number) && number.TryGetInt64(out var value)
                    ? new MessageKey(device.GetString()!, value)
                    : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
