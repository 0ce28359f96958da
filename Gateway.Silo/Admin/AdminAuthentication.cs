using Microsoft.Net.Http.Headers;

namespace Gateway.Silo.Admin;

/// <summary>
/// Bearer-token check on every admin endpoint: no token is 401 (with <c>WWW-Authenticate</c>), a wrong token 403, the
/// read-only token on a request that is not GET or HEAD 403 <c>read-only-token</c>, all as problem+json. Every
/// mutating admin endpoint is a POST or DELETE, so the method is the rule.
/// </summary>
internal static class AdminAuthentication
{
    private const string Scheme = "Bearer ";

    public static TBuilder RequireAdminToken<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var header = http.Request.Headers.Authorization.ToString();
            if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || header.Length == Scheme.Length)
            {
                http.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer realm=\"gateway-admin\"";
                return AdminProblems.Problem(StatusCodes.Status401Unauthorized, "A bearer token is required.", "unauthorized",
                    "Send the admin token as 'Authorization: Bearer <token>'.");
            }

            var access = http.RequestServices.GetRequiredService<AdminToken>().Check(header[Scheme.Length..].Trim());
            if (access == AdminAccess.None)
            {
                return AdminProblems.Problem(StatusCodes.Status403Forbidden, "The bearer token is not the admin token.", "forbidden",
                    "The token sent does not match the gateway's admin token.");
            }

            if (access == AdminAccess.ReadOnly && !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
            {
                return AdminProblems.Problem(StatusCodes.Status403Forbidden, "The read-only token cannot change anything.", "read-only-token",
                    $"{http.Request.Method} changes the gateway; send the full admin token (Gateway:Admin:Token) for it.");
            }

            return await next(context);
        });
        return builder;
    }
}
