using System.Text.Json;

namespace Gateway.Tests.Infrastructure;

/// <summary>One line of the file sink's output.</summary>
public sealed record SinkLine(string MessageId, string DeviceId, long Sequence, JsonElement Line);

/// <summary>Reads what the file sink wrote: every complete NDJSON line of every file in a folder.</summary>
public static class SinkFiles
{
    /// <param name="folder">The sink's folder.</param>
    /// <param name="afterPowerCuts">
    /// Whether the files may end where a power cut left them: writes that were never synced (a sink whose syncs a
    /// test disabled) can reach the disk out of order, leaving a run of NUL bytes before a torn line. Those lines are
    /// skipped; elsewhere a line that does not parse fails the read.
    /// </param>
    public static List<SinkLine> Read(string folder, bool afterPowerCuts = false)
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
                if (!TryParse(afterPowerCuts ? line.TrimStart('\0') : line, afterPowerCuts, out var json))
                {
                    continue;
                }

                lines.Add(new SinkLine(
                    json.GetProperty("messageId").GetString()!,
                    json.GetProperty("deviceId").GetString()!,
                    json.GetProperty("sequence").GetInt64(),
                    json));
            }
        }

        return lines;
    }

    private static bool TryParse(string line, bool skipTorn, out JsonElement json)
    {
        try
        {
            json = JsonDocument.Parse(line).RootElement.Clone();
            return true;
        }
        catch (JsonException) when (skipTorn)
        {
            json = default;
            return false;
        }
    }
}
