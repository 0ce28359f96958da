using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Gateway.Storage;
using Microsoft.Extensions.Logging;

namespace Gateway.Devices;

/// <summary>
/// Keeps one device's secret as HMAC-SHA256(salt, secret) in grain state. Secrets are 256 random bits
/// generated here, so a fast keyed hash is as strong as a slow password hash would be (nothing to brute-force)
/// and verification stays cheap enough to run on every MQTT connect. Comparison is constant-time.
/// </summary>
public sealed partial class DeviceCredentialsGrain(
    [PersistentState("credentials", StorageNames.Gateway)] IPersistentState<DeviceCredentialsState> state,
    TimeProvider time,
    ILogger<DeviceCredentialsGrain> logger) : Grain, IDeviceCredentialsGrain
{
    private const int SecretBytes = 32;
    private const int SaltBytes = 16;

    /// <inheritdoc />
    public async Task<string?> ProvisionAsync()
    {
        EnsureValidDeviceId();
        return state.State.Hash is null ? await ReplaceSecretAsync() : null;
    }

    /// <inheritdoc />
    public Task<string> RotateAsync()
    {
        EnsureValidDeviceId();
        return ReplaceSecretAsync();
    }

    /// <inheritdoc />
    public async Task RevokeAsync()
    {
        if (state.State.Hash is null)
        {
            return;
        }

        await WriteAsync(salt: null, hash: null);
        LogRevoked(logger, this.GetPrimaryKeyString());
    }

    /// <inheritdoc />
    public Task<bool> VerifyAsync(string secret)
    {
        var current = state.State;
        if (current.Hash is null || current.Salt is null || string.IsNullOrEmpty(secret))
        {
            return Task.FromResult(false);
        }

        var candidate = Hash(current.Salt, secret);
        return Task.FromResult(CryptographicOperations.FixedTimeEquals(candidate, current.Hash));
    }

    /// <inheritdoc />
    public Task<bool> IsProvisionedAsync() => Task.FromResult(state.State.Hash is not null);

    private async Task<string> ReplaceSecretAsync()
    {
        var secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);

        // Written before the secret is returned: a secret the caller holds always verifies.
        await WriteAsync(salt, Hash(salt, secret));
        LogSecretChanged(logger, this.GetPrimaryKeyString());
        return secret;
    }

    // Memory and storage never disagree: a failed write puts the previous credentials back.
    private async Task WriteAsync(byte[]? salt, byte[]? hash)
    {
        var current = state.State;
        var (previousSalt, previousHash, previousChangedAt) = (current.Salt, current.Hash, current.ChangedAt);
        (current.Salt, current.Hash, current.ChangedAt) = (salt, hash, time.GetUtcNow());
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            (current.Salt, current.Hash, current.ChangedAt) = (previousSalt, previousHash, previousChangedAt);
            throw;
        }
    }

    private void EnsureValidDeviceId()
    {
        if (!DeviceId.IsValid(this.GetPrimaryKeyString()))
        {
            throw new ArgumentException(
                $"The device id must be 1-{DeviceId.MaxLength} letters, digits, '-', '_' or '.', starting with a letter or digit.");
        }
    }

    private static byte[] Hash(byte[] salt, string secret) => HMACSHA256.HashData(salt, Encoding.UTF8.GetBytes(secret));

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Device {DeviceId} has a new secret")]
    private static partial void LogSecretChanged(ILogger logger, string deviceId);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "The secret of device {DeviceId} was revoked")]
    private static partial void LogRevoked(ILogger logger, string deviceId);
}

/// <summary>A device's stored credentials: the salted hash of its secret, never the secret.</summary>
[GenerateSerializer, Alias("Gateway.DeviceCredentialsState")]
public sealed class DeviceCredentialsState
{
    /// <summary>Random salt, the HMAC key.</summary>
    [Id(0)] public byte[]? Salt { get; set; }

    /// <summary>HMAC-SHA256(salt, secret); null when the device has no secret.</summary>
    [Id(1)] public byte[]? Hash { get; set; }

    /// <summary>When the secret was last provisioned, rotated or revoked.</summary>
    [Id(2)] public DateTimeOffset? ChangedAt { get; set; }
}
