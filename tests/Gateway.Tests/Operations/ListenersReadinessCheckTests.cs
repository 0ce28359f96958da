using Gateway.Ingest.Http;
using Gateway.Silo.Health;
using Gateway.Silo.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Operations;

public sealed class ListenersReadinessCheckTests
{
    [Fact]
    public async Task A_listener_that_is_not_bound_fails_readiness_naming_it()
    {
        var check = Check(["http://127.0.0.1:8081"]);

        var result = await check.CheckAsync(CancellationToken.None);

        Assert.False(result.Ready);
        Assert.Equal("Not listening: HTTP ingest (port 8080).", result.Reason);
    }

    [Fact]
    public async Task Both_listeners_bound_pass()
    {
        var result = await Check(["http://127.0.0.1:8080", "http://127.0.0.1:8081"]).CheckAsync(CancellationToken.None);

        Assert.True(result.Ready);
    }

    private static ListenersReadinessCheck Check(string[] addresses)
    {
        var features = new FeatureCollection();
        var bound = new ServerAddressesFeature();
        foreach (var address in addresses)
        {
            bound.Addresses.Add(address);
        }

        features.Set<IServerAddressesFeature>(bound);
        return new ListenersReadinessCheck(new StubServer(features),
            Options.Create(new HttpIngestOptions { Port = 8080 }), Options.Create(new OperationsOptions { Port = 8081 }));
    }

    private sealed class ServerAddressesFeature : IServerAddressesFeature
    {
        public ICollection<string> Addresses { get; } = [];

        public bool PreferHostingUrls { get; set; }
    }

    private sealed class StubServer(IFeatureCollection features) : IServer
    {
        public IFeatureCollection Features => features;

        public void Dispose()
        {
        }

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
            where TContext : notnull => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
