using System.ComponentModel.DataAnnotations;

namespace Gateway.Devices;

/// <summary>Settings under <c>Gateway:Devices</c>: message limits and duplicate detection.</summary>
public sealed class DeviceOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gateway:Devices";

    /// <summary>Largest accepted message payload, in bytes.</summary>
    [Range(1, 16 * 1024 * 1024, ErrorMessage = "Gateway:Devices:MaxMessageBytes must be between 1 and 16777216.")]
    public int MaxMessageBytes { get; set; } = 256 * 1024;

    /// <summary>How many recent device message ids each device remembers to drop retransmissions.</summary>
    [Range(0, 100_000, ErrorMessage = "Gateway:Devices:DuplicateWindowSize must be between 0 and 100000.")]
    public int DuplicateWindowSize { get; set; } = 1024;

    /// <summary>How long a device message id is remembered.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00", ErrorMessage = "Gateway:Devices:DuplicateWindow must be between 0 and 7 days.")]
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often a device grain writes its duplicate and refusal counts, when they changed (activity is committed with the messages).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00", ErrorMessage = "Gateway:Devices:StateFlushInterval must be between 100 ms and 1 hour.")]
    public TimeSpan StateFlushInterval { get; set; } = TimeSpan.FromSeconds(5);
}
