using System.Collections.Concurrent;
using System.Net;

namespace Gateway.Tests.Infrastructure;

/// <summary>An HTTP server on a free loopback port that answers 200 and remembers each request's headers and body.</summary>
public sealed class RecordingHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public RecordingHttpServer()
    {
        Url = new Uri($"http://127.0.0.1:{FreePort.Next()}/ingest/");
        _listener.Prefixes.Add(Url.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri Url { get; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Closing the listener ends the loop with an error by design.
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception error) when (error is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream);
            var body = await reader.ReadToEndAsync();
            Requests.Enqueue(new RecordedRequest(context.Request.Headers["traceparent"], body));
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }
}

public sealed record RecordedRequest(string? TraceParent, string Body);
