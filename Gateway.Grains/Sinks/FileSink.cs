using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Gateway.Wal;
using Microsoft.Win32.SafeHandles;

namespace Gateway.Sinks;

/// <summary>
/// Appends records as newline-delimited JSON to files in a folder, each batch written through to disk
/// (O_DSYNC) before it counts as delivered. A new file is started at each start and whenever the current
/// one would pass its size limit, so a torn line can only ever be the last line of a file.
/// </summary>
public sealed class FileSink : ISink, IDisposable
{
    /// <summary>The type name in configuration.</summary>
    public const string TypeName = "file";

    /// <summary>Extension of the files the sink writes.</summary>
    public const string FileExtension = ".ndjson";

    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly string _folder;
    private readonly long _maxFileBytes;
    private SafeFileHandle? _file;
    private long _fileLength;
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

    /// <inheritdoc />
    public async Task<DeliveryResult> DeliverAsync(IReadOnlyList<WalRecord> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        // Partitions of one sink share its file; each batch is written whole, so lines never interleave.
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Serialize(batch);
            if (_file is null || (_fileLength > 0 && _fileLength + _buffer.WrittenCount > _maxFileBytes))
            {
                StartNewFile();
            }

            await RandomAccess.WriteAsync(_file!, _buffer.WrittenMemory, _fileLength, cancellationToken).ConfigureAwait(false);
            _fileLength += _buffer.WrittenCount;
            return DeliveryResult.Delivered;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _file?.Dispose();
        _writeLock.Dispose();
    }

    private void Serialize(IReadOnlyList<WalRecord> batch)
    {
        _buffer.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_buffer);
        foreach (var record in batch)
        {
            TelemetryRecordJson.Write(writer, record);
            writer.Flush();
            _buffer.Write(NewLine);
            writer.Reset(_buffer);
        }
    }

    private void StartNewFile()
    {
        _file?.Dispose();
        Directory.CreateDirectory(_folder);
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmssfff", CultureInfo.InvariantCulture);
        var path = Path.Combine(_folder, $"{Name}-{stamp}-{Environment.ProcessId}-{_fileNumber++:D4}{FileExtension}");
        _file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, FileOptions.WriteThrough);
        _fileLength = 0;
    }
}
