using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Infrastructure;

/// <summary>A span the receiver was sent: its trace id (32 hex digits) and name.</summary>
public sealed record ExportedSpan(string TraceId, string Name);

/// <summary>
/// A stand-in for an OpenTelemetry Collector: OTLP/HTTP with protobuf bodies on a loopback port, answering the
/// collector's paths (<c>/v1/traces</c>, <c>/v1/metrics</c>) and nothing else, and keeping the spans it was sent.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app, int port)
    {
        _app = app;
        Endpoint = $"http://127.0.0.1:{port}";
    }

    /// <summary>The base address to configure as the gateway's OTLP endpoint.</summary>
    public string Endpoint { get; }

    /// <summary>Every span received, in arrival order.</summary>
    public ConcurrentQueue<ExportedSpan> Spans { get; } = new();

    /// <summary>How many metric exports arrived at <c>/v1/metrics</c>.</summary>
    public int MetricExports => _metricExports;

    private int _metricExports;

    public static async Task<OtlpReceiver> StartAsync()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app, port);
        app.MapPost("/v1/traces", receiver.ReceiveTracesAsync);
        app.MapPost("/v1/metrics", receiver.ReceiveMetricsAsync);
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ReceiveTracesAsync(HttpContext context)
    {
        foreach (var span in ExportTraceServiceRequest.Spans(await ReadBodyAsync(context.Request)))
        {
            Spans.Enqueue(span);
        }

        await AnswerAsync(context);
    }

    private async Task ReceiveMetricsAsync(HttpContext context)
    {
        await ReadBodyAsync(context.Request);
        Interlocked.Increment(ref _metricExports);
        await AnswerAsync(context);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        return body.ToArray();
    }

    // An empty Export*ServiceResponse: full success.
    private static Task AnswerAsync(HttpContext context)
    {
        context.Response.ContentType = "application/x-protobuf";
        context.Response.StatusCode = StatusCodes.Status200OK;
        return Task.CompletedTask;
    }
}

/// <summary>
/// Reads the spans out of an OTLP <c>ExportTraceServiceRequest</c> by walking the protobuf wire format (the few
/// fields needed, from opentelemetry-proto): resource_spans = 1, its scope_spans = 2, their spans = 2, and in a span
/// trace_id = 1 and name = 5.
/// </summary>
internal static class ExportTraceServiceRequest
{
    public static IEnumerable<ExportedSpan> Spans(byte[] request)
    {
        foreach (var resourceSpans in Fields(request, 1))
        {
            foreach (var scopeSpans in Fields(resourceSpans, 2))
            {
                foreach (var span in Fields(scopeSpans, 2))
                {
                    var traceId = Convert.ToHexStringLower(Fields(span, 1).Single());
                    var name = System.Text.Encoding.UTF8.GetString(Fields(span, 5).SingleOrDefault() ?? []);
                    yield return new ExportedSpan(traceId, name);
                }
            }
        }
    }

    // The values of the length-delimited fields numbered 'field' in 'message'; other fields are skipped.
    private static List<byte[]> Fields(byte[] message, int field)
    {
        var values = new List<byte[]>();
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            var number = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    ReadVarint(message, ref position);
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    if (number == field)
                    {
                        values.Add(message[position..(position + length)]);
                    }

                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"protobuf wire type {tag & 7} at byte {position} is not one OTLP uses");
            }
        }

        return values;
    }

    private static ulong ReadVarint(byte[] buffer, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var next = buffer[position++];
            value |= (ulong)(next & 0x7F) << shift;
            if ((next & 0x80) == 0)
            {
                return value;
            }
        }
    }
}
