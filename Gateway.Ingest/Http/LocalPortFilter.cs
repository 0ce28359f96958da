using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gateway.Ingest.Http;

/// <summary>
/// Restricts an endpoint to connections that arrived on one local port, so ingest and operations
/// endpoints stay on their own listeners whatever Host header a client sends.
/// </summary>
public static class LocalPortFilter
{
    /// <summary>Answers 404 to requests that did not arrive on <paramref name="port"/>.</summary>
    public static TBuilder RequireLocalPort<TBuilder>(this TBuilder builder, int port)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddEndpointFilter(async (context, next) =>
            context.HttpContext.Connection.LocalPort == port ? await next(context) : Results.NotFound());
        return builder;
    }
}
