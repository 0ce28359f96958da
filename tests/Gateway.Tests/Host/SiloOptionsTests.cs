using Gateway.Silo.Hosting;
using Gateway.Tests.Operations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Gateway.Tests.Host;

/// <summary>Orleans settings the gateway chooses over Orleans' defaults.</summary>
[Collection(InProcessGatewayCollection.Name)]
public sealed class SiloOptionsTests(InProcessGateway gateway)
{
    [Fact]
    public void The_grain_directory_cache_is_sized_by_the_gateway_not_at_the_Orleans_default()
    {
        var cacheSize = gateway.Services.GetRequiredService<IOptions<GrainDirectoryOptions>>().Value.CacheSize;

        Assert.Equal(new OrleansHostOptions().DirectoryCacheSize, cacheSize);
        Assert.True(cacheSize < new GrainDirectoryOptions().CacheSize, $"{cacheSize} entries, Orleans' default is {new GrainDirectoryOptions().CacheSize}");
    }
}
