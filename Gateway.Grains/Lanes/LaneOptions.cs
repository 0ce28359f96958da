using System.ComponentModel.DataAnnotations;

namespace Gateway.Lanes;

/// <summary>The lanes list under <c>Gateway:Lanes</c>; empty means one lane that takes everything (<see cref="LaneCatalog.Default"/>).</summary>
public sealed class LaneListOptions
{
    /// <summary>Configured lanes, e.g. <c>Gateway__Lanes__0__Name=critical</c>.</summary>
    public List<LaneOptions> Lanes { get; set; } = [];
}

/// <summary>
/// One priority lane: which messages it takes, where its records queue in each partition, how much of the buffer it may
/// fill, and how long its records may wait.
/// </summary>
public sealed class LaneOptions
{
    /// <summary>Unique name; it appears in metrics, readiness, refusals and the admin API.</summary>
    [Required, RegularExpression("^[a-z0-9][a-z0-9_-]{0,31}$", ErrorMessage = "Name must be 1-32 lower-case letters, digits, '-' or '_'.")]
    public string Name { get; set; } = "";

    /// <summary>0 (sent first) to 9 (sent last), as Azure IoT Edge and Eclipse Kura number theirs; unique per lane.</summary>
    [Range(0, 9, ErrorMessage = "Priority must be between 0 and 9.")]
    public int Priority { get; set; } = Lane.DefaultPriority;

    /// <summary>MQTT topic filters ('+', '#') of the messages this lane takes; with <see cref="Devices"/> empty too, the lane takes what no other does.</summary>
    public List<string> Topics { get; set; } = [];

    /// <summary>Device id patterns ('*' wildcard) of the messages this lane takes.</summary>
    public List<string> Devices { get; set; } = [];

    /// <summary>
    /// The fraction of the WAL's high-water marks (<c>Gateway:Wal:HighWaterMessages</c>, <c>HighWaterBytes</c>) up to which
    /// the lane's messages are accepted: at 0.8, the lane is refused once the buffer, all lanes together, is 80 % full, and
    /// the last 20 % stays for the lanes with a larger share.
    /// </summary>
    [Range(0.01, 1.0, ErrorMessage = "Share must be between 0.01 and 1.")]
    public double Share { get; set; } = 1.0;

    /// <summary>
    /// Free bytes on the data disk below which the lane's messages are refused; default, and never less than,
    /// <c>Gateway:Wal:DiskFreeFloorBytes</c>. A higher floor keeps the last of the disk for other lanes.
    /// </summary>
    [Range(0, long.MaxValue, ErrorMessage = "DiskFreeFloorBytes must not be negative.")]
    public long? DiskFreeFloorBytes { get; set; }

    /// <summary>How long the lane's records may wait for delivery before they become Dead with reason <c>expired</c>; none by default.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00", ErrorMessage = "TimeToLive must be between 1 second and 3650 days.")]
    public TimeSpan? TimeToLive { get; set; }
}
