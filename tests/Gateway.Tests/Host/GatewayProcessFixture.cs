using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Host;

/// <summary>One real gateway process with embedded defaults (file sink under its data folder), shared by the HTTP tests.</summary>
public sealed class GatewayProcessFixture : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();

    public GatewayProcess Gateway { get; private set; } = null!;

    public async Task InitializeAsync() => Gateway = await GatewayProcess.StartAsync(_directory.Path);

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        _directory.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayProcessCollection : ICollectionFixture<GatewayProcessFixture>
{
    public const string Name = "gateway-process";
}
