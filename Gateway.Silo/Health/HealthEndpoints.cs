using Gateway.Devices;
using Gateway.Ingest.Http;
using Gateway.Silo.Hosting;
using Gateway.Wal;
using Microsoft.Extensions.Options;

namespace Gateway.Silo.Health;

/// <summary><c>/healthz</c> (the process answers) and <c>/readyz</c> (it can take messages now), on the operations port.</summary>
public static class HealthEndpoints
{
    /// <summary>Maps both probes; each answers JSON with its checks.</summary>
    public static WebApplication MapHealthProbes(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var port = app.Services.GetRequiredService<IOptions<OperationsOptions>>().Value.Port;
        app.MapGet("/healthz", () => Results.Json(new { status = "alive" })).RequireLocalPort(port);
        app.MapGet("/readyz", (SiloActivity silo, IngestPressure pressure) =>
        {
            var (refusal, detail) = pressure.Check();
            var checks = new Dictionary<string, object?>
            {
                ["silo"] = new { ready = silo.IsActive, reason = silo.IsActive ? null : "The silo is not active." },
                ["ingest"] = new { ready = refusal == RefusalReason.None, reason = detail },
            };
            var ready = silo.IsActive && refusal == RefusalReason.None;
            return Results.Json(new { status = ready ? "ready" : "not-ready", checks },
                statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).RequireLocalPort(port);
        return app;
    }
}
