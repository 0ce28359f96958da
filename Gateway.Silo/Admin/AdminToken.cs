using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Gateway.Storage;
using Microsoft.Extensions.Options;

namespace Gateway.Silo.Admin;

/// <summary>What a bearer token allows.</summary>
public enum AdminAccess
{
    /// <summary>Not an admin token.</summary>
    None,

    /// <summary>The read-only token: reads (GET, HEAD) only.</summary>
    ReadOnly,

    /// <summary>The admin token: everything.</summary>
    Full,
}

/// <summary>
/// The admin API's bearer tokens: the full one (configured, read from a file, or generated into the data folder,
/// readable by the gateway's user only, so a fresh install is never open) and an optional read-only one for dashboards
/// and scripts. Tokens from files are read again at every check, so replacing the file rotates the token.
/// </summary>
public sealed partial class AdminToken
{
    private const int GeneratedTokenBytes = 32;
    private readonly AdminSecret _full;
    private readonly AdminSecret? _readOnly;

    /// <summary>Resolves the tokens from <paramref name="options"/>, creating the generated file if needed.</summary>
    public AdminToken(IOptions<AdminOptions> options, IOptions<GatewayOptions> gateway, ILogger<AdminToken> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(gateway);
        var admin = options.Value;
        if (!string.IsNullOrEmpty(admin.Token))
        {
            _full = AdminSecret.Fixed(admin.Token);
            Source = "configuration (Gateway:Admin:Token)";
        }
        else if (!string.IsNullOrEmpty(admin.TokenFile))
        {
            Source = Path.GetFullPath(admin.TokenFile);
            _full = AdminSecret.FromFile(Source, "Gateway:Admin:TokenFile:", logger);
        }
        else
        {
            Source = Path.GetFullPath(Path.Combine(gateway.Value.DataPath, AdminOptions.GeneratedTokenFileName));
            if (!File.Exists(Source))
            {
                Generate(Source);
            }

            _full = AdminSecret.FromFile(Source, "Gateway:Admin:TokenFile: the generated admin token file", logger);
        }

        if (!string.IsNullOrEmpty(admin.ReadOnlyToken))
        {
            _readOnly = AdminSecret.Fixed(admin.ReadOnlyToken);
        }
        else if (!string.IsNullOrEmpty(admin.ReadOnlyTokenFile))
        {
            _readOnly = AdminSecret.FromFile(Path.GetFullPath(admin.ReadOnlyTokenFile), "Gateway:Admin:ReadOnlyTokenFile:", logger);
        }

        if (_readOnly is not null && _readOnly.SameAs(_full))
        {
            throw new InvalidOperationException("Gateway:Admin:ReadOnlyToken must differ from the admin token, or it would grant everything.");
        }

        LogTokenSource(logger, Source, _readOnly is not null);
    }

    /// <summary>Where the full token came from, for the log (never the token).</summary>
    public string Source { get; }

    /// <summary>What <paramref name="candidate"/> allows: the full token wins if the two ever match alike.</summary>
    public AdminAccess Check(string candidate) =>
        _full.Matches(candidate) ? AdminAccess.Full
        : _readOnly?.Matches(candidate) == true ? AdminAccess.ReadOnly
        : AdminAccess.None;

    private static void Generate(string path)
    {
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(GeneratedTokenBytes));
        var folder = Path.GetDirectoryName(path)!;
        DirectorySync.CreateDirectory(folder);
        // Created with owner-only permissions from the start, so the token is never readable by others, even briefly.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(path, options))
        {
            file.Write(Encoding.ASCII.GetBytes(token));
            file.Flush(flushToDisk: true);
        }

        // The operator copies the token from this file on first start: a power cut must not take it (its data or its
        // name) and have the next start generate a different one.
        DirectorySync.Sync(folder);
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Admin API bearer token from {Source}; read-only token configured: {ReadOnly}")]
    private static partial void LogTokenSource(ILogger logger, string source, bool readOnly);
}
