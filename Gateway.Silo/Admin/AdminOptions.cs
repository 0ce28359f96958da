using System.ComponentModel.DataAnnotations;

namespace Gateway.Silo.Admin;

/// <summary>Settings under <c>Gateway:Admin</c>: the admin HTTP API on the operations port.</summary>
public sealed class AdminOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gateway:Admin";

    /// <summary>Name of the generated token file inside the data folder.</summary>
    public const string GeneratedTokenFileName = "admin-token";

    /// <summary>Serve the admin API.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The bearer token callers must send. Leave empty to read <see cref="TokenFile"/>, or, with neither set, to use
    /// the token generated on first start in <c>{DataPath}/admin-token</c> (mode 0600). Never logged.
    /// </summary>
    [MinLength(16, ErrorMessage = "Gateway:Admin:Token must be at least 16 characters.")]
    public string? Token { get; set; }

    /// <summary>A file whose content (trimmed) is the bearer token, e.g. a mounted secret; read again at every request.</summary>
    public string? TokenFile { get; set; }

    /// <summary>
    /// A second bearer token that may only read (GET and HEAD: lists, lifecycles, depths, the live tail), for dashboards
    /// and scripts; a mutating request with it is refused with 403 <c>read-only-token</c>. None by default.
    /// </summary>
    [MinLength(16, ErrorMessage = "Gateway:Admin:ReadOnlyToken must be at least 16 characters.")]
    public string? ReadOnlyToken { get; set; }

    /// <summary>A file whose content (trimmed) is the read-only token; read again at every request.</summary>
    public string? ReadOnlyTokenFile { get; set; }

    /// <summary>How many messages a live-tail viewer may fall behind before messages are dropped for it.</summary>
    [Range(1, 100_000, ErrorMessage = "Gateway:Admin:TailBuffer must be between 1 and 100000.")]
    public int TailBuffer { get; set; } = 256;

    /// <summary>How often an idle live tail sends a keep-alive comment.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Gateway:Admin:TailKeepAlive must be between 1 second and 10 minutes.")]
    public TimeSpan TailKeepAlive { get; set; } = TimeSpan.FromSeconds(15);
}
