namespace Gateway.Silo.Admin;

/// <summary>The admin API's errors as RFC 9457 <c>application/problem+json</c>, each with a stable <c>reason</c>.</summary>
internal static class AdminProblems
{
    /// <summary>400 naming the input that is wrong, in <c>field</c> and in <c>errors</c>.</summary>
    public static IResult Invalid(string field, string detail) =>
        Results.ValidationProblem(
            new Dictionary<string, string[]> { [field] = [detail] },
            detail: detail, title: "The request is not valid.", type: "urn:gateway:problem:invalid-input",
            extensions: new Dictionary<string, object?> { ["reason"] = "invalid-input", ["field"] = field });

    public static IResult NotFound(string reason, string detail) =>
        Problem(StatusCodes.Status404NotFound, "Not found.", reason, detail);

    public static IResult Conflict(string reason, string detail) =>
        Problem(StatusCodes.Status409Conflict, "The request conflicts with the current state.", reason, detail);

    public static IResult Problem(int status, string title, string reason, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: title, type: $"urn:gateway:problem:{reason}",
            extensions: new Dictionary<string, object?> { ["reason"] = reason });
}
