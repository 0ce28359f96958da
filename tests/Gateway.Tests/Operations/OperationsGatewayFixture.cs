using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Operations;

/// <summary>
/// One real gateway process with embedded defaults and tracing on, shared by the metrics and dashboard tests,
/// with a little traffic already through it: stored, refused and delivered messages.
/// </summary>
public sealed class OperationsGatewayFixture : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();

    public GatewayProcess Gateway { get; private set; } = null!;

    public int OperationsPort => Gateway.Operations.BaseAddress!.Port;

    public async Task InitializeAsync()
    {
        Gateway = await GatewayProcess.StartAsync(_directory.Path, new Dictionary<string, string>
        {
            ["Gateway:Telemetry:Tracing"] = "true",
        });

        using var accepted = await Gateway.Http.PostJsonAsync("ops-1", """{"value": 1}""");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        using var refused = await Gateway.Http.PostJsonAsync("ops-1", """{"value": """);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        await Eventually.TrueAsync(() => SinkFiles.Read(Gateway.SinkFolder).Any(line => line.DeviceId == "ops-1"), "the message delivered");
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        _directory.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class OperationsGatewayCollection : ICollectionFixture<OperationsGatewayFixture>
{
    public const string Name = "operations-gateway";
}
