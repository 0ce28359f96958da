using Gateway.Ingest.Http;
using Gateway.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Silo.Health;

/// <summary><c>/healthz</c> (the process answers) and <c>/readyz</c> (it can take messages now), on the operations port.</summary>
public static class HealthEndpoints
{
    /// <summary>Registers the readiness checks (silo, WAL write, disk floor, backpressure, listeners) and their metric.</summary>
    public static WebApplicationBuilder AddGatewayHealth(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<HealthOptions>().BindConfiguration(HealthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IReadinessCheck, SiloReadinessCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IReadinessCheck, WalReadinessCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IReadinessCheck, DiskReadinessCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IReadinessCheck, BackpressureReadinessCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IReadinessCheck, LanesReadinessCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IReadinessCheck, ListenersReadinessCheck>());
        services.AddHostedService<ReadinessMetrics>();
        return builder;
    }

    /// <summary>Maps both probes; each answers JSON with its checks.</summary>
    public static WebApplication MapHealthProbes(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var port = app.Services.GetRequiredService<IOptions<OperationsOptions>>().Value.Port;
        app.MapGet("/healthz", () => Results.Json(new { status = "alive" })).RequireLocalPort(port);
        app.MapGet("/readyz", async (IEnumerable<IReadinessCheck> checks, CancellationToken cancellationToken) =>
        {
            var results = new Dictionary<string, object?>();
            var ready = true;
            foreach (var check in checks)
            {
                var result = await check.CheckAsync(cancellationToken);
                ready &= result.Ready;
                results[check.Name] = new { status = result.Status, reason = result.Reason };
            }

            return Results.Json(new { status = ready ? "ready" : "not-ready", checks = results },
                statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).RequireLocalPort(port);
        return app;
    }
}
