using Microsoft.Net.Http.Headers;

namespace Gateway.Silo.Admin;

/// <summary>
/// Bearer-token check on every admin endpoint: no token is 401 (with <c>WWW-Authenticate</c>), a wrong token 403,
/// both as problem+json.
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

            var token = http.RequestServices.GetRequiredService<AdminToken>();
            if (!token.Matches(header[Scheme.Length..].Trim()))
            {
                return AdminProblems.Problem(StatusCodes.Status403Forbidden, "The bearer token is not the admin token.", "forbidden",
                    "The token sent does not match the gateway's admin token.");
            }

            return await next(context);
        });
        return builder;
    }
}
