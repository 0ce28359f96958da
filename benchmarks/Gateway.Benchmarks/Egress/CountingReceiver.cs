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
/// so the figure is the gateway's.
/// </summary>
internal sealed class CountingReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _records;

    private CountingReceiver(WebApplication app) => _app = app;

    public long Records => Interlocked.Read(ref _records);

    public static async Task<CountingReceiver> StartAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port);
            kestrel.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var receiver = new CountingReceiver(app);
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
        Interlocked.Add(ref _records, CountElements(body.GetBuffer().AsSpan(0, (int)body.Length)));
        context.Response.StatusCode = StatusCodes.Status200OK;
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
