using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Benchmarks.Measurement;

namespace Gateway.Load.Load;

/// <summary>The one JSON line a run prints: what scripts put in their tables.</summary>
internal sealed record LoadSummary(
    [property: JsonPropertyName("label")] string Label,
    [property: JsonPropertyName("transport")] string Transport,
    [property: JsonPropertyName("devices")] int Devices,
    [property: JsonPropertyName("acknowledged")] long Acknowledged,
    [property: JsonPropertyName("measured")] long Measured,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("rate")] double Rate,
    [property: JsonPropertyName("p50_ms")] double? P50Milliseconds,
    [property: JsonPropertyName("p99_ms")] double? P99Milliseconds,
    [property: JsonPropertyName("p999_ms")] double? P999Milliseconds,
    [property: JsonPropertyName("refused")] long Refused,
    [property: JsonPropertyName("lost")] long Lost,
    [property: JsonPropertyName("reconnects")] long Reconnects,
    [property: JsonPropertyName("load_cpu_us")] double? LoadCpuMicroseconds,
    [property: JsonPropertyName("server_cpu_us")] double? ServerCpuMicroseconds,
    [property: JsonPropertyName("server_write_bytes")] double? ServerWrittenBytes,
    [property: JsonPropertyName("server_core_percent")] double? ServerCorePercent)
{
    public static LoadSummary From(LoadSettings settings, LoadRecorder recorder, CpuWindow cpu)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(recorder);
        ArgumentNullException.ThrowIfNull(cpu);
        var latency = LatencySummary.From(recorder.Latencies());
        var seconds = recorder.Window.TotalSeconds;
        return new LoadSummary(
            settings.Label, settings.Transport.ToString(), settings.Devices, recorder.Acknowledged, recorder.MeasuredAcknowledged,
            Math.Round(seconds, 3), seconds > 0 ? Math.Round(recorder.MeasuredAcknowledged / seconds, 1) : 0,
            Milliseconds(latency?.P50), Milliseconds(latency?.P99), Milliseconds(latency?.P999),
            recorder.Refused, recorder.Lost, recorder.Reconnects,
            cpu.LoadMicrosecondsPer(recorder.MeasuredAcknowledged), cpu.ServerMicrosecondsPer(recorder.MeasuredAcknowledged),
            cpu.ServerWrittenBytesPer(recorder.MeasuredAcknowledged),
            cpu.ServerCorePercent(recorder.Window));
    }

    public string ToJson() => JsonSerializer.Serialize(this);

    private static double? Milliseconds(TimeSpan? latency) => latency is { } value ? Math.Round(value.TotalMilliseconds, 3) : null;
}
