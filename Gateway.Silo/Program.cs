using Gateway.Ingest.Http;
using Gateway.Ingest.Mqtt;
using Gateway.Silo.Admin;
using Gateway.Silo.Dashboard;
using Gateway.Silo.Health;
using Gateway.Silo.Hosting;
using Gateway.Silo.Telemetry;

// appsettings.json is read from beside the binary, whatever folder the gateway is started from;
// a relative Gateway:DataPath is still relative to the current folder.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddGatewaySilo();
builder.AddGatewayListeners();
builder.AddMqttIngest();
builder.AddGatewayHealth();
builder.AddGatewayTelemetry();
builder.AddGatewayDashboard();
builder.AddGatewayAdmin();

// Under systemd (Type=notify) READY=1 is sent once every hosted service has started; elsewhere this does nothing.
builder.Services.AddSystemd();

try
{
    // Mapping reads validated options (the ingest port), so a bad value surfaces here as well as at start.
    var app = builder.Build();
    app.MapGatewayMetrics();
    app.MapGatewayDashboard();
    app.MapTelemetryIngest();
    app.MapHealthProbes();
    app.MapGatewayAdmin();
    await app.RunAsync();
    return 0;
}
catch (Exception error) when (StartupErrors.Describe(error) is { } message)
{
    await Console.Error.WriteLineAsync(message);
    return StartupErrors.ConfigurationExitCode;
}
