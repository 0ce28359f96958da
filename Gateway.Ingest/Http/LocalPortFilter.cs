using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gateway.Ingest.Http;

/// <summary>
/// Restricts an endpoint to connections that arrived on its own local ports, so ingest and operations
/// endpoints stay on their own listeners whatever Host header a client sends.
/// </summary>
public static class LocalPortFilter
{
    /// <summary>Answers 404 to requests that did not arrive on <paramref name="port"/>.</summary>
    public static TBuilder RequireLocalPort<TBuilder>(this TBuilder builder, int port)
        where TBuilder : IEndpointConventionBuilder => builder.RequireLocalPort([port]);

    /// <summary>Answers 404 to requests that did not arrive on one of <paramref name="ports"/>.</summary>
    public static TBuilder RequireLocalPort<TBuilder>(this TBuilder builder, int[] ports)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(ports);
        builder.AddEndpointFilter(async (context, next) =>
            Array.IndexOf(ports, context.HttpContext.Connection.LocalPort) >= 0 ? await next(context) : Results.NotFound());
        return builder;
    }
}
