using Gateway.Ingest.Http;
using Gateway.Silo.Health;
using Gateway.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddGatewaySilo();
builder.AddGatewayListeners();

var app = builder.Build();
app.MapTelemetryIngest();
app.MapHealthProbes();

try
{
    await app.RunAsync();
    return 0;
}
catch (Exception error) when (StartupErrors.Describe(error) is { } message)
{
    await Console.Error.WriteLineAsync(message);
    return StartupErrors.ConfigurationExitCode;
}
