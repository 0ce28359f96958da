using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Infrastructure;

/// <summary>One batch POST the receiver saw.</summary>
public sealed record ReceivedBatch(string? IdempotencyKey, string? ContentEncoding, string? TraceParent, IReadOnlyList<JsonElement> Records, int Status)
{
    /// <summary>Every request header, by lower-case name.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A stand-in for the cloud: a real HTTPS server (Kestrel, certificate from a test CA) on a loopback port
/// that takes the gateway's batch POSTs, records them, and answers what the test tells it to.
/// </summary>
public sealed class CloudReceiver : IAsyncDisposable
{
    private readonly X509Certificate2 _certificate;
    private WebApplication? _app;

    private CloudReceiver(X509Certificate2 certificate, int port)
    {
        _certificate = certificate;
        Port = port;
    }

    public int Port { get; }

    public Uri Url => new($"https://localhost:{Port}/ingest");

    /// <summary>Every request, accepted or not, in arrival order.</summary>
    public ConcurrentQueue<ReceivedBatch> Requests { get; } = new();

    /// <summary>Decides each answer from the records of the batch; 200 by default.</summary>
    public Func<IReadOnlyList<JsonElement>, (int Status, string? RetryAfter)> Respond { get; set; } = _ => (200, null);

    /// <summary>
    /// Runs before each answer is decided, with the batch's records: a test awaits a gate here to hold a request
    /// open until it lets it go. Nothing is held by default.
    /// </summary>
    public Func<IReadOnlyList<JsonElement>, Task> BeforeAnswer { get; set; } = _ => Task.CompletedTask;

    /// <summary>Records of every batch answered 2xx, in arrival order.</summary>
    public IEnumerable<JsonElement> Accepted => Requests.Where(r => r.Status is >= 200 and < 300).SelectMany(r => r.Records);

    public static async Task<CloudReceiver> StartAsync(X509Certificate2 certificate, int? port = null)
    {
        var receiver = new CloudReceiver(certificate, port ?? FreePort.Next());
        await receiver.StartAsync();
        return receiver;
    }

    /// <summary>Starts listening (again) on the same port: the cloud comes back.</summary>
    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, Port, listen =>
            listen.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = _certificate })));
        var app = builder.Build();
        app.MapPost("/ingest", ReceiveAsync);
        await app.StartAsync();
        _app = app;
    }

    /// <summary>Stops listening: connections are refused, as in an outage.</summary>
    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task ReceiveAsync(HttpContext context)
    {
        var encoding = context.Request.Headers.ContentEncoding.ToString();
        Stream body = encoding == "gzip" ? new GZipStream(context.Request.Body, CompressionMode.Decompress) : context.Request.Body;
        var records = (await JsonSerializer.DeserializeAsync<List<JsonElement>>(body))!;
        await BeforeAnswer(records);
        var (status, retryAfter) = Respond(records);
        Requests.Enqueue(new ReceivedBatch(
            context.Request.Headers["Idempotency-Key"].ToString(), encoding.Length == 0 ? null : encoding,
            context.Request.Headers["traceparent"].ToString() is { Length: > 0 } trace ? trace : null, records, status)
        {
            Headers = context.Request.Headers.ToDictionary(header => header.Key.ToLowerInvariant(), header => header.Value.ToString()),
        });
        context.Response.StatusCode = status;
        if (retryAfter is not null)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }

        await context.Response.WriteAsync(status >= 400 ? $"refused with {status}" : "ok");
    }
}
