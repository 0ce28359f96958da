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
        Problem(StatusCodes.Status413PayloadTooLarge, "The request is too large.", "payload-too-large", detail);

    public static IResult UnsupportedMediaType(string detail) =>
        Problem(StatusCodes.Status415UnsupportedMediaType, "The content type or encoding is not supported.", "unsupported-media-type", detail);

    public static IResult Unavailable(string detail, TimeSpan retryAfter) =>
        WithRetryAfter(Problem(StatusCodes.Status503ServiceUnavailable, "The gateway cannot store messages now.", "unavailable", detail), retryAfter);

    /// <summary>Maps a device grain's refusal to its status code.</summary>
    public static IResult Refused(AcceptResult result) => result.Refusal switch
    {
        RefusalReason.InvalidDeviceId => BadRequest("invalid-device-id", result.Detail!),
        RefusalReason.EmptyBatch => BadRequest("empty-batch", result.Detail!),
        RefusalReason.MalformedJson => BadRequest("malformed-json", result.Detail!),
        RefusalReason.PayloadTooLarge => PayloadTooLarge(result.Detail!),
        RefusalReason.DeviceDisabled => Problem(StatusCodes.Status403Forbidden, "The device is disabled.", "device-disabled", result.Detail!),
        RefusalReason.NoRoute => Problem(StatusCodes.Status422UnprocessableEntity, "No sink takes this message.", "no-route", result.Detail!),
        RefusalReason.Backpressure => WithRetryAfter(
            Problem(StatusCodes.Status429TooManyRequests, "The gateway is holding too much undelivered data.", "backpressure", result.Detail!), result.RetryAfter),
        RefusalReason.DiskFull => WithRetryAfter(
            Problem(StatusCodes.Status429TooManyRequests, "The gateway's disk is nearly full.", "disk-full", result.Detail!), result.RetryAfter),
        _ => Unavailable(result.Detail ?? "The gateway could not store the messages.", result.RetryAfter ?? TimeSpan.FromSeconds(1)),
    };

    /// <summary>The stable <c>reason</c> of a problem built here, or null for any other result.</summary>
    public static string? ReasonOf(IResult result) => result switch
    {
        RetryAfterResult retry => ReasonOf(retry.Inner),
        ProblemHttpResult problem when problem.ProblemDetails.Extensions.TryGetValue("reason", out var reason) => reason as string,
        _ => null,
    };

    private static IResult Problem(int status, string title, string reason, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: title, type: $"urn:gateway:problem:{reason}",
            extensions: new Dictionary<string, object?> { ["reason"] = reason });

    private static IResult WithRetryAfter(IResult inner, TimeSpan? retryAfter) =>
        retryAfter is { } delay ? new RetryAfterResult(inner, delay) : inner;

    /// <summary>Adds a Retry-After header (whole seconds, at least 1) to another result.</summary>
    private sealed class RetryAfterResult(IResult inner, TimeSpan retryAfter) : IResult
    {
        public IResult Inner => inner;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
