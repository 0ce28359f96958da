using System.ComponentModel.DataAnnotations;
using Gateway.Silo.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;

namespace Gateway.Silo.Dashboard;

/// <summary>Settings under <c>Gateway:Dashboard</c>: the Orleans Dashboard on the operations port.</summary>
public sealed class OperationsDashboardOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gateway:Dashboard";

    /// <summary>Serve the dashboard.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Path prefix of the dashboard on the operations port.</summary>
    [Required, RegularExpression("^/[A-Za-z0-9/_-]*[A-Za-z0-9_-]$", ErrorMessage = "Gateway:Dashboard:Path must start with '/' and not end with one, e.g. /dashboard.")]
    public string Path { get; set; } = "/dashboard";

    /// <summary>
    /// Turn off the dashboard's live log stream. On by default: the dashboard has no login of its own, so the
    /// logs stay off it unless an operator opts in (the port is loopback by default).
    /// </summary>
    public bool HideTrace { get; set; } = true;

    /// <summary>
    /// How often the dashboard samples the silo's counters (at least 1000 ms). Every 10 s by default, not the
    /// dashboard's own 1 s: each sample is a round of grain calls, and on an idle Pi those were most of its CPU.
    /// </summary>
    [Range(1000, 60_000, ErrorMessage = "Gateway:Dashboard:CounterUpdateIntervalMs must be between 1000 and 60000.")]
    public int CounterUpdateIntervalMs { get; set; } = 10_000;
}

/// <summary>Hosts Microsoft.Orleans.Dashboard inside the gateway, under a path of the operations port.</summary>
public static class DashboardHosting
{
    /// <summary>Adds the dashboard's silo services when <c>Gateway:Dashboard:Enabled</c>.</summary>
    public static WebApplicationBuilder AddGatewayDashboard(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<OperationsDashboardOptions>().BindConfiguration(OperationsDashboardOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var options = builder.Configuration.GetSection(OperationsDashboardOptions.Section).Get<OperationsDashboardOptions>() ?? new OperationsDashboardOptions();
        if (options.Enabled)
        {
            builder.UseOrleans(silo => silo.AddDashboard(dashboard =>
            {
                dashboard.HideTrace = options.HideTrace;
                dashboard.CounterUpdateIntervalMs = options.CounterUpdateIntervalMs;
            }));
        }

        return builder;
    }

    /// <summary>Maps the dashboard under its path, answering only on the operations port.</summary>
    public static WebApplication MapGatewayDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<IOptions<OperationsDashboardOptions>>().Value;
        if (!options.Enabled)
        {
            return app;
        }

        var port = app.Services.GetRequiredService<IOptions<OperationsOptions>>().Value.Port;
        var path = new PathString(options.Path);
        // Middleware, not an endpoint filter: some dashboard routes are plain request delegates, which skip filters.
        app.UseWhen(
            context => context.Connection.LocalPort != port && context.Request.Path.StartsWithSegments(path),
            other => other.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }));
        app.MapOrleansDashboard(options.Path);
        return app;
    }
}
