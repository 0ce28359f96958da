using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Load.Receive;

/// <summary>
/// A local stand-in for the cloud: plain HTTP on loopback, <c>POST /ingest</c> with a JSON array of records (what
/// the http sink sends), each record appended as one NDJSON line and flushed to the operating system before the
/// 200, so that what was acknowledged survives the receiver being killed. The checker reads the file.
/// </summary>
internal sealed class NdjsonReceiver : IAsyncDisposable
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private readonly WebApplication _app;
    private readonly FileStream _output;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private long _records;

    private NdjsonReceiver(WebApplication app, FileStream output)
    {
        _app = app;
        _output = output;
    }

    public long Records => Interlocked.Read(ref _records);

    public static async Task<NdjsonReceiver> StartAsync(int port, string outputPath)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port);
            kestrel.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var receiver = new NdjsonReceiver(app, new FileStream(outputPath, FileMode.Append, FileAccess.Write, FileShare.Read));
        app.MapPost("/ingest", receiver.ReceiveAsync);
        await app.StartAsync().ConfigureAwait(false);
        return receiver;
    }

    public async Task WaitForShutdownAsync() => await _app.WaitForShutdownAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await _output.DisposeAsync().ConfigureAwait(false);
        _writeLock.Dispose();
    }

    private async Task ReceiveAsync(HttpContext context)
    {
        using var batch = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        if (batch.RootElement.ValueKind != JsonValueKind.Array)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var lines = new MemoryStream();
        var count = 0;
        foreach (var record in batch.RootElement.EnumerateArray())
        {
            lines.Write(Encoding.UTF8.GetBytes(record.GetRawText()));
            lines.Write(NewLine);
            count++;
        }

        // One batch at a time: a partition's records stay together and in the order they were sent.
        await _writeLock.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        try
        {
            await _output.WriteAsync(lines.GetBuffer().AsMemory(0, (int)lines.Length), context.RequestAborted).ConfigureAwait(false);
            await _output.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }

        Interlocked.Add(ref _records, count);
        context.Response.StatusCode = StatusCodes.Status200OK;
    }
}
