using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Gateway.Storage;
using Gateway.Wal;
using Microsoft.Win32.SafeHandles;

namespace Gateway.Sinks;

/// <summary>
/// Appends records as newline-delimited JSON to files in a folder, each batch written through to disk
/// (O_DSYNC) before it counts as delivered; batches of several partitions that arrive together share one write.
/// A new file is started at each start and whenever the current one would pass its size limit, so a torn line can
/// only ever be the last line of a file; its name (and a new folder's) is synced before the first batch goes in.
/// </summary>
public sealed class FileSink : ISink, IDisposable
{
    /// <summary>The type name in configuration.</summary>
    public const string TypeName = "file";

    /// <summary>Extension of the files the sink writes.</summary>
    public const string FileExtension = ".ndjson";

    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly List<PendingWrite> _waiting = [];
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly string _folder;
    private readonly long _maxFileBytes;
    private SafeFileHandle? _file;
    private long _fileLength;
    private long _writes;
    private int _fileNumber;

    /// <summary>Creates a sink writing under <paramref name="folder"/> (created if missing).</summary>
    public FileSink(string name, string folder, long maxFileBytes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        Name = name;
        _folder = Path.GetFullPath(folder);
        _maxFileBytes = maxFileBytes;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The folder the files are written to.</summary>
    public string Folder => _folder;

    /// <summary>Writes (each synced) since start; fewer than the batches delivered when partitions deliver together.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <inheritdoc />
    public async Task<DeliveryResult> DeliverAsync(IReadOnlyList<WalRecord> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        // Partitions of one sink share its file. Batches that arrive while a write is under way are written
        // together by the next writer, in one write and so one sync; each batch is written whole, so lines never
        // interleave, and a batch counts as delivered only after the write that holds it is on disk.
        var write = new PendingWrite(batch);
        lock (_waiting)
        {
            _waiting.Add(write);
        }

        try
        {
            await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (_waiting)
            {
                if (_waiting.Remove(write))
                {
                    throw;
                }
            }

            // Another caller's write has taken the batch: its outcome is this batch's.
            await write.Done.Task.ConfigureAwait(false);
            return DeliveryResult.Delivered;
        }

        try
        {
            if (!write.Done.Task.IsCompleted)
            {
                await WriteWaitingAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _writeLock.Release();
        }

        await write.Done.Task.ConfigureAwait(false);
        return DeliveryResult.Delivered;
    }

    /// <summary>Writes every waiting batch (this caller's among them) and settles each.</summary>
    private async Task WriteWaitingAsync()
    {
        List<PendingWrite> group;
        lock (_waiting)
        {
            group = [.. _waiting];
            _waiting.Clear();
        }

        try
        {
            Serialize(group);
            if (_file is null || (_fileLength > 0 && _fileLength + _buffer.WrittenCount > _maxFileBytes))
            {
                StartNewFile();
            }

            // Not cancellable once begun: the group holds other callers' batches, and a write cut short would tear them.
            await RandomAccess.WriteAsync(_file!, _buffer.WrittenMemory, _fileLength, CancellationToken.None).ConfigureAwait(false);
            _fileLength += _buffer.WrittenCount;
            Interlocked.Increment(ref _writes);
        }
        catch (Exception error)
        {
            foreach (var write in group)
            {
                write.Done.TrySetException(error);
            }

            return;
        }

        foreach (var write in group)
        {
            write.Done.TrySetResult();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _file?.Dispose();
        _writeLock.Dispose();
    }

    private void Serialize(List<PendingWrite> group)
    {
        _buffer.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_buffer);
        foreach (var write in group)
        {
            foreach (var record in write.Batch)
            {
                TelemetryRecordJson.Write(writer, record);
                writer.Flush();
                _buffer.Write(NewLine);
                writer.Reset(_buffer);
            }
        }
    }

    /// <summary>A batch waiting for the write that takes it, and that write's outcome.</summary>
    private sealed class PendingWrite(IReadOnlyList<WalRecord> batch)
    {
        public IReadOnlyList<WalRecord> Batch { get; } = batch;

        // Settled by whichever caller writes the group; continuations run on their own, not inside that write.
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private void StartNewFile()
    {
        _file?.Dispose();
        DirectorySync.CreateDirectory(_folder);
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmssfff", CultureInfo.InvariantCulture);
        var path = Path.Combine(_folder, $"{Name}-{stamp}-{Environment.ProcessId}-{_fileNumber++:D4}{FileExtension}");
        _file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, FileOptions.WriteThrough);
        // O_DSYNC makes the lines durable, not the new file's name: without this a power cut after the ack could take
        // the whole file, acknowledged batches and all, on a file system that does not order names before data.
        DirectorySync.Sync(_folder);
        _fileLength = 0;
    }
}
