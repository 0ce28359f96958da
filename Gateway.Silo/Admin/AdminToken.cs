using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Gateway.Storage;
using Microsoft.Extensions.Options;

namespace Gateway.Silo.Admin;

/// <summary>
/// The admin API's bearer token, resolved once at start: configured, read from a file, or generated into the data
/// folder (readable by the gateway's user only) so a fresh install is never open. Compared in constant time.
/// </summary>
public sealed partial class AdminToken
{
    private const int GeneratedTokenBytes = 32;
    private const int MinimumLength = 16;
    private readonly byte[] _tokenHash;

    /// <summary>Resolves the token from <paramref name="options"/>, creating the generated file if needed.</summary>
    public AdminToken(IOptions<AdminOptions> options, IOptions<GatewayOptions> gateway, ILogger<AdminToken> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(gateway);
        var admin = options.Value;
        string token;
        if (!string.IsNullOrEmpty(admin.Token))
        {
            token = admin.Token;
            Source = "configuration (Gateway:Admin:Token)";
        }
        else if (!string.IsNullOrEmpty(admin.TokenFile))
        {
            token = ReadTokenFile(admin.TokenFile, "Gateway:Admin:TokenFile");
            Source = Path.GetFullPath(admin.TokenFile);
        }
        else
        {
            var path = Path.GetFullPath(Path.Combine(gateway.Value.DataPath, AdminOptions.GeneratedTokenFileName));
            token = File.Exists(path) ? ReadTokenFile(path, "the generated admin token file") : Generate(path);
            Source = path;
        }

        _tokenHash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        LogTokenSource(logger, Source);
    }

    /// <summary>Where the token came from, for the log (never the token).</summary>
    public string Source { get; }

    /// <summary>
    /// True when <paramref name="candidate"/> is the token. Hashes are compared, in constant time, so neither where the
    /// two differ nor the token's length shows in the time taken.
    /// </summary>
    public bool Matches(string candidate) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(candidate)), _tokenHash);

    private static string ReadTokenFile(string path, string what)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"Gateway:Admin:TokenFile: {what} '{path}' does not exist.");
        }

        var token = File.ReadAllText(path).Trim();
        return token.Length >= MinimumLength
            ? token
            : throw new InvalidOperationException($"Gateway:Admin:TokenFile: {what} '{path}' must hold a token of at least {MinimumLength} characters.");
    }

    private static string Generate(string path)
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
        return token;
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Admin API bearer token from {Source}")]
    private static partial void LogTokenSource(ILogger logger, string source);
}
