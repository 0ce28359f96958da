using System.Net.Http.Headers;
using Gateway.Devices;
using Gateway.Ingest.Credentials;
using Gateway.Ingest.Tls;
using Gateway.Ingest.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Ingest.Http;

/// <summary>
/// <c>POST /v1/devices/{deviceId}/telemetry[/{subtopic}]</c>: a JSON object is one message, a JSON array a batch, any
/// other content type one opaque message. The messages are stored under the topic <c>devices/{deviceId}/telemetry[/{subtopic}]</c>,
/// which sink routes and lanes match, as they match an MQTT device's. 202 with the message ids only after the WAL commit; every error
/// is <c>application/problem+json</c> naming what was wrong.
/// </summary>
public static partial class TelemetryEndpoints
{
    /// <summary>Transport name recorded with HTTP messages.</summary>
    public const string Transport = "http";

    /// <summary>Header carrying the device's own message id for a non-JSON body.</summary>
    public const string DeviceMessageIdHeader = "X-Message-Id";

    /// <summary>The service key of the HTTPS listener's <see cref="ReloadingServerCertificate"/>.</summary>
    public const string HttpsCertificateKey = "https-ingest";

    /// <summary>Registers the HTTP ingest options and services.</summary>
    public static IServiceCollection AddHttpIngest(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<HttpIngestOptions>().BindConfiguration(HttpIngestOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddMetrics();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HttpIngestOptions>, HttpIngestOptionsValidator>());
        services.TryAddSingleton<IngestTelemetry>();
        services.AddDeviceCredentials();
        services.TryAddSingleton<HttpDeviceAuthenticator>();
        services.TryAddKeyedSingleton(HttpsCertificateKey, (sp, _) => new ReloadingServerCertificate(
            sp.GetRequiredService<IOptions<HttpIngestOptions>>().Value.CertificateSource(), sp.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Ingest.Https")));
        return services;
    }

    /// <summary>Maps the telemetry endpoint, answering only on the ingest listeners' ports (plaintext and HTTPS).</summary>
    public static IEndpointConventionBuilder MapTelemetryIngest(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<HttpIngestOptions>>().Value;
        if (options.AllowAnonymous)
        {
            LogAnonymousAllowed(endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TelemetryEndpoints)),
                options.BindAddress, options.Port);
        }

        // The catch-all also matches the bare path, with no subtopic.
        return endpoints.MapPost("/v1/devices/{deviceId}/telemetry/{**subtopic}", PostTelemetryAsync).RequireLocalPort(options.TlsEnabled ? [options.Port, options.TlsPort] : [options.Port]);
    }

    private static async Task<IResult> PostTelemetryAsync(
        string deviceId, string? subtopic, HttpContext context, IGrainFactory grains, IOptions<HttpIngestOptions> options, IngestTelemetry telemetry,
        HttpDeviceAuthenticator authenticator)
    {
        var headers = context.Request.Headers;
        var deviceTraceParent = headers.TraceParent.ToString() is { Length: > 0 } header ? header : null;
        var deviceTraceState = headers.TraceState.ToString() is { Length: > 0 } state ? state : null;
        using var activity = IngestTelemetry.StartIngest(Transport, deviceId, deviceTraceParent, deviceTraceState);
        var result = await authenticator.AuthorizeAsync(context, deviceId)
            ?? await IngestAsync(deviceId, subtopic, context, grains, options.Value, telemetry, IngestTelemetry.TraceParentToStore(activity, deviceTraceParent));
        if (Problems.ReasonOf(result) is { } reason)
        {
            telemetry.Refused(Transport, reason, activity);
        }

        return result;
    }

    private static async Task<IResult> IngestAsync(
        string deviceId, string? subtopic, HttpContext context, IGrainFactory grains, HttpIngestOptions limits, IngestTelemetry telemetry, string? traceParent)
    {
        var request = context.Request;
        if (!DeviceId.IsValid(deviceId))
        {
            return Problems.BadRequest(IngestReasons.InvalidDeviceId,
                $"The device id must be 1-{DeviceId.MaxLength} letters, digits, '-', '_' or '.', starting with a letter or digit.");
        }

        var topic = string.IsNullOrEmpty(subtopic) ? TelemetryTopic.Of(deviceId) : $"{TelemetryTopic.Of(deviceId)}/{subtopic}";
        if (TelemetryTopic.Parse(topic, out _) != TelemetryTopic.Shape.Valid)
        {
            return Problems.BadRequest(IngestReasons.TopicInvalid,
                $"'{subtopic}' is not a subtopic: its levels, split by '/', must not be empty nor hold '+' or '#'.");
        }

        if (request.Headers.ContentEncoding is { Count: > 0 } encoding && !string.Equals(encoding.ToString(), "identity", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.UnsupportedMediaType($"Content-Encoding '{encoding}' is not supported; send the body uncompressed.");
        }

        string? mediaType = null;
        if (!string.IsNullOrEmpty(request.ContentType))
        {
            if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed) || parsed.MediaType is null)
            {
                return Problems.UnsupportedMediaType($"Content-Type '{request.ContentType}' is not a media type.");
            }

            mediaType = parsed.MediaType;
            if (mediaType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase)
                || mediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
            {
                return Problems.UnsupportedMediaType($"Content-Type '{mediaType}' is a form; send JSON or the raw payload.");
            }
        }

        var body = await ReadBodyAsync(context, limits.MaxRequestBytes);
        if (body is null)
        {
            return Problems.PayloadTooLarge($"The body is larger than {limits.MaxRequestBytes} bytes.");
        }

        List<IncomingMessage> messages;
        if (mediaType is not null && IsJson(mediaType))
        {
            var (elements, error) = TelemetryBodyParser.Parse(body, limits.MaxBatchMessages);
            if (elements is null)
            {
                return TelemetryBodyParser.IsTooManyMessages(error!)
                    ? Problems.PayloadTooLarge(error!)
                    : Problems.BadRequest("malformed-json", error!);
            }

            messages = new List<IncomingMessage>(elements.Count);
            foreach (var element in elements)
            {
                var payload = new ReadOnlyMemory<byte>(body, element.Start, element.Length);
                messages.Add(new IncomingMessage(payload, "application/json", element.DeviceMessageId, traceParent, Transport, topic));
            }
        }
        else
        {
            var deviceMessageId = request.Headers[DeviceMessageIdHeader].ToString() is { Length: > 0 } id ? id : null;
            messages = [new IncomingMessage(body, mediaType, deviceMessageId, traceParent, Transport, topic)];
        }

        AcceptResult result;
        try
        {
            result = await grains.GetGrain<IDeviceGrain>(deviceId).AcceptAsync(messages);
        }
        catch (Exception error) when (error is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            return Problems.Unavailable($"The gateway could not take the message now ({error.GetType().Name}); nothing was stored.", TimeSpan.FromSeconds(1));
        }

        if (!result.IsAccepted)
        {
            return Problems.Refused(result);
        }

        var duplicates = 0;
        foreach (var message in result.Messages)
        {
            duplicates += message.Duplicate ? 1 : 0;
        }

        telemetry.Accepted(Transport, result.Messages.Count - duplicates, duplicates);
        return Results.Json(AcceptedResponse.From(result), statusCode: StatusCodes.Status202Accepted);
    }

    private static bool IsJson(string mediaType) =>
        mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads the whole body, or returns null as soon as it passes <paramref name="maxBytes"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpContext context, int maxBytes)
    {
        if (context.Request.ContentLength > maxBytes)
        {
            return null;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = maxBytes + 1L;
        }

        var buffer = new byte[context.Request.ContentLength is { } length ? (int)length : Math.Min(maxBytes + 1, 16 * 1024)];
        var filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length > maxBytes)
                {
                    return null;
                }

                Array.Resize(ref buffer, (int)Math.Min(maxBytes + 1L, buffer.Length * 2L));
            }

            int read;
            try
            {
                read = await context.Request.Body.ReadAsync(buffer.AsMemory(filled), context.RequestAborted);
            }
            catch (BadHttpRequestException error) when (error.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return null;
            }

            if (read == 0)
            {
                break;
            }

            filled += read;
            if (filled > maxBytes)
            {
                return null;
            }
        }

        return filled == buffer.Length ? buffer : buffer[..filled];
    }

    [LoggerMessage(EventId = 4201, Level = LogLevel.Warning, Message = "HTTP ingest on {Address}:{Port} accepts requests without credentials from loopback, which may post as any device id (first-run mode); provision device secrets and set Gateway:Http:AllowAnonymous=false")]
    private static partial void LogAnonymousAllowed(ILogger logger, string address, int port);
}
