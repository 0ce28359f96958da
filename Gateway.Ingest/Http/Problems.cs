using System.Globalization;
using Gateway.Devices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Ingest.Http;

/// <summary>The ingest errors as RFC 9457 <c>application/problem+json</c>, each with a stable <c>reason</c>.</summary>
internal static class Problems
{
    public static IResult BadRequest(string reason, string detail) =>
        Problem(StatusCodes.Status400BadRequest, "The request is not valid telemetry.", reason, detail);

    public static IResult PayloadTooLarge(string detail) =>
        Problem(StatusCodes.Status413PayloadTooLarge, "The request is too large.", IngestReasons.PayloadTooLarge, detail);

    public static IResult UnsupportedMediaType(string detail) =>
        Problem(StatusCodes.Status415UnsupportedMediaType, "The content type or encoding is not supported.", "unsupported-media-type", detail);

    /// <summary>401 with the Basic challenge: the request must (again) carry a device's credentials.</summary>
    public static IResult Unauthorized(string reason, string detail) =>
        new HeaderResult(Problem(StatusCodes.Status401Unauthorized, "The request does not authenticate a device.", reason, detail),
            "WWW-Authenticate", HttpDeviceAuthenticator.Challenge);

    /// <summary>429 with Retry-After: the sender's address is refused for a while.</summary>
    public static IResult TooManyRequests(string reason, string detail, TimeSpan retryAfter) =>
        WithRetryAfter(Problem(StatusCodes.Status429TooManyRequests, "Too many failed attempts from this address.", reason, detail), retryAfter);

    /// <summary>403: the credentials are valid for another device than the one posted as, or may not be used here.</summary>
    public static IResult Forbidden(string reason, string detail) =>
        Problem(StatusCodes.Status403Forbidden, "The device may not post here.", reason, detail);

    public static IResult Unavailable(string detail, TimeSpan retryAfter) =>
        WithRetryAfter(Problem(StatusCodes.Status503ServiceUnavailable, "The gateway cannot store messages now.", IngestReasons.Unavailable, detail), retryAfter);

    /// <summary>Maps a device grain's refusal to its status code.</summary>
    public static IResult Refused(AcceptResult result) => result.Refusal switch
    {
        RefusalReason.InvalidDeviceId or RefusalReason.EmptyBatch or RefusalReason.MalformedJson => BadRequest(IngestReasons.Of(result.Refusal), result.Detail!),
        RefusalReason.PayloadTooLarge => PayloadTooLarge(result.Detail!),
        RefusalReason.DeviceDisabled => Problem(StatusCodes.Status403Forbidden, "The device is disabled.", IngestReasons.Of(result.Refusal), result.Detail!),
        RefusalReason.NoRoute => Problem(StatusCodes.Status422UnprocessableEntity, "No sink takes this message.", IngestReasons.Of(result.Refusal), result.Detail!),
        RefusalReason.Backpressure => WithRetryAfter(
            Problem(StatusCodes.Status429TooManyRequests, "The gateway is holding too much undelivered data.", IngestReasons.Of(result.Refusal), result.Detail!), result.RetryAfter),
        RefusalReason.DiskFull => WithRetryAfter(
            Problem(StatusCodes.Status429TooManyRequests, "The gateway's disk is nearly full.", IngestReasons.Of(result.Refusal), result.Detail!), result.RetryAfter),
        _ => Unavailable(result.Detail ?? "The gateway could not store the messages.", result.RetryAfter ?? TimeSpan.FromSeconds(1)),
    };

    /// <summary>The stable <c>reason</c> of a problem built here, or null for any other result.</summary>
    public static string? ReasonOf(IResult result) => result switch
    {
        HeaderResult withHeader => ReasonOf(withHeader.Inner),
        ProblemHttpResult problem when problem.ProblemDetails.Extensions.TryGetValue("reason", out var reason) => reason as string,
        _ => null,
    };

    private static IResult Problem(int status, string title, string reason, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: title, type: $"urn:gateway:problem:{reason}",
            extensions: new Dictionary<string, object?> { ["reason"] = reason });

    // Retry-After in whole seconds, at least 1.
    private static IResult WithRetryAfter(IResult inner, TimeSpan? retryAfter) =>
        retryAfter is { } delay
            ? new HeaderResult(inner, "Retry-After", Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture))
            : inner;

    /// <summary>Adds one response header to another result.</summary>
    private sealed class HeaderResult(IResult inner, string name, string value) : IResult
    {
        public IResult Inner => inner;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers[name] = value;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
