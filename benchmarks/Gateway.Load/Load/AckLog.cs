using System.Threading.Channels;

namespace Gateway.Load.Load;

/// <summary>
/// Appends the key of every acknowledged message to a file, one line each, from a single writer task so that
/// devices never wait on the disk. Lines reach the file when the run ends (or the buffer fills); a load generator
/// killed mid-run may lose its tail, which only makes the check stricter about nothing.
/// </summary>
internal sealed class AckLog : IAsyncDisposable
{
    private readonly Channel<MessageKey> _keys = Channel.CreateUnbounded<MessageKey>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writing;

    private AckLog(string? path) => _writing = path is null ? DrainAsync() : WriteAsync(path);

    /// <summary>A log writing to <paramref name="path"/> (appending), or discarding keys when it is null.</summary>
    public static AckLog Open(string? path) => new(path);

    public void Add(MessageKey key) => _keys.Writer.TryWrite(key);

    public async ValueTask DisposeAsync()
    {
        _keys.Writer.TryComplete();
        await _writing.ConfigureAwait(false);
    }

    private async Task WriteAsync(string path)
    {
        await using var writer = new StreamWriter(path, append: true);
        await foreach (var key in _keys.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            await writer.WriteLineAsync(key.ToLine()).ConfigureAwait(false);
        }
    }

    private async Task DrainAsync()
    {
        await foreach (var _ in _keys.Reader.ReadAllAsync().ConfigureAwait(false))
        {
        }
    }
}
