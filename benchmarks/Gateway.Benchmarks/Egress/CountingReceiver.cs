using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Benchmarks.Egress;

/// <summary>
/// The cheapest honest cloud: a plain-HTTP Kestrel endpoint on loopback that reads each batch, counts its
/// records with a forward-only JSON reader, and answers 200. It costs the benchmark as little CPU as it can,
/// so the figure is the gateway's. Given a marker, it also notes where the records holding it arrived among the rest.
/// </summary>
internal sealed class CountingReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly byte[]? _marker;
    private readonly Lock _order = new();
    private long _records;
    private long _marked;
    private long _unmarkedBeforeLastMarked;

    private CountingReceiver(WebApplication app, byte[]? marker)
    {
        _app = app;
        _marker = marker;
    }

    public long Records => Interlocked.Read(ref _records);

    /// <summary>Records received that hold the marker.</summary>
    public long Marked => Interlocked.Read(ref _marked);

    /// <summary>Records without the marker that arrived before the last one with it.</summary>
    public long UnmarkedBeforeLastMarked => Interlocked.Read(ref _unmarkedBeforeLastMarked);

    /// <param name="marker">Bytes that mark a record (for example <c>/alarms"</c>, the end of a topic); null: count only.</param>
    public static async Task<CountingReceiver> StartAsync(int port, string? marker = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port);
            kestrel.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var receiver = new CountingReceiver(app, marker is null ? null : System.Text.Encoding.UTF8.GetBytes(marker));
        app.MapPost("/ingest", receiver.ReceiveAsync);
        await app.StartAsync().ConfigureAwait(false);
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task ReceiveAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body).ConfigureAwait(false);
        var json = body.GetBuffer().AsSpan(0, (int)body.Length);
        if (_marker is null)
        {
            Interlocked.Add(ref _records, CountElements(json));
        }
        else
        {
            lock (_order)
            {
                PlaceMarked(json, _marker);
            }
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    // Counts the batch's records in arrival order, noting how many unmarked ones came before each marked one.
    private void PlaceMarked(ReadOnlySpan<byte> json, byte[] marker)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            var record = json[start..(int)reader.BytesConsumed];
            if (record.IndexOf(marker) >= 0)
            {
                Interlocked.Exchange(ref _unmarkedBeforeLastMarked, _records - _marked);
                Interlocked.Increment(ref _marked);
            }

            Interlocked.Increment(ref _records);
        }
    }

    private static int CountElements(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        var count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            reader.Skip();
            count++;
        }

        return count;
    }
}
