using System.Security.Cryptography;
using System.Text;

namespace Gateway.Silo.Admin;

/// <summary>
/// One bearer token of the admin API: a configured value, or a file read again at every check, so a token is rotated
/// by replacing the file, with no restart. Compared as SHA-256 hashes in constant time, so neither where a candidate
/// differs nor the token's length shows in the time taken. A file that stops holding a valid token matches nothing.
/// </summary>
internal sealed partial class AdminSecret
{
    /// <summary>The shortest token accepted.</summary>
    public const int MinimumLength = 16;

    private readonly byte[]? _fixedHash;
    private readonly string? _path;
    private readonly ILogger? _logger;

    private AdminSecret(byte[]? fixedHash, string? path, ILogger? logger)
    {
        _fixedHash = fixedHash;
        _path = path;
        _logger = logger;
    }

    /// <summary>A token given in configuration.</summary>
    public static AdminSecret Fixed(string token) => new(Hash(token), null, null);

    /// <summary>
    /// The token in the file at <paramref name="path"/>, checked now (a missing or short token stops the start, naming
    /// <paramref name="what"/>) and read again at every later check.
    /// </summary>
    public static AdminSecret FromFile(string path, string what, ILogger logger)
    {
        if (Read(path) is { Error: { } error })
        {
            throw new InvalidOperationException($"{what} '{path}' {error}.");
        }

        return new AdminSecret(null, path, logger);
    }

    /// <summary>True when <paramref name="candidate"/> is the token now.</summary>
    public bool Matches(string candidate)
    {
        var hash = _fixedHash;
        if (_path is not null)
        {
            var (token, error) = Read(_path);
            if (error is not null)
            {
                LogUnusableFile(_logger!, _path, error);
                return false;
            }

            hash = Hash(token!);
        }

        return CryptographicOperations.FixedTimeEquals(Hash(candidate), hash);
    }

    /// <summary>True when this and <paramref name="other"/> hold the same token now.</summary>
    public bool SameAs(AdminSecret other) => other.CurrentHash() is { } hash && CurrentHash() is { } mine && hash.AsSpan().SequenceEqual(mine);

    private byte[]? CurrentHash() => _path is null ? _fixedHash : Read(_path) is { Token: { } token } ? Hash(token) : null;

    private static (string? Token, string? Error) Read(string path)
    {
        string token;
        try
        {
            token = File.ReadAllText(path).Trim();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot be read ({error.GetType().Name})");
        }

        return token.Length >= MinimumLength ? (token, null) : (null, $"must hold a token of at least {MinimumLength} characters");
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    [LoggerMessage(EventId = 6002, Level = LogLevel.Error, Message = "Admin token file {Path} {Problem}: requests with its token are refused until it is mended")]
    private static partial void LogUnusableFile(ILogger logger, string path, string problem);
}
