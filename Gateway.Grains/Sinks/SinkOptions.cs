using System.ComponentModel.DataAnnotations;

namespace Gateway.Sinks;

/// <summary>The sinks list under <c>Gateway:Sinks</c>; empty means the embedded default file sink.</summary>
public sealed class SinkListOptions
{
    /// <summary>Configured sinks, e.g. <c>Gateway__Sinks__0__Type=file</c>.</summary>
    public List<SinkOptions> Sinks { get; set; } = [];
}

/// <summary>One sink: a name, a type and that type's settings.</summary>
public sealed class SinkOptions
{
    /// <summary>Unique name; it appears in partition keys, metrics and the admin API.</summary>
    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    public string Name { get; set; } = "";

    /// <summary>The sink type: <c>file</c>.</summary>
    [Required]
    public string Type { get; set; } = "";

    /// <summary>file: the folder the NDJSON files go to; default <c>{DataPath}/sink/{Name}</c>.</summary>
    public string? Path { get; set; }

    /// <summary>file: size after which a new file is started.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 64L * 1024 * 1024;
}
