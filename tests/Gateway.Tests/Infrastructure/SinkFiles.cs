using System.Text.Json;

namespace Gateway.Tests.Infrastructure;

/// <summary>One line of the file sink's output.</summary>
public sealed record SinkLine(string MessageId, string DeviceId, long Sequence, JsonElement Line);

/// <summary>Reads what the file sink wrote: every complete NDJSON line of every file in a folder.</summary>
public static class SinkFiles
{
    public static List<SinkLine> Read(string folder)
    {
        var lines = new List<SinkLine>();
        if (!Directory.Exists(folder))
        {
            return lines;
        }

        foreach (var file in Directory.GetFiles(folder, "*.ndjson").Order(StringComparer.Ordinal))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var text = reader.ReadToEnd();
            var complete = text.EndsWith('\n') ? text : text[..(text.LastIndexOf('\n') + 1)];
            foreach (var line in complete.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var json = JsonDocument.Parse(line).RootElement.Clone();
                lines.Add(new SinkLine(
                    json.GetProperty("messageId").GetString()!,
                    json.GetProperty("deviceId").GetString()!,
                    json.GetProperty("sequence").GetInt64(),
                    json));
            }
        }

        return lines;
    }
}
