using MQTTnet;
using MQTTnet.Server;

namespace Gateway.Load.Broker;

/// <summary>
/// MQTTnet 5's server alone, as the gateway configures it (no persistent sessions, no fan-out), answering every
/// PUBLISH as soon as MQTTnet hands it over: no grain, no WAL, no disk. Measured beside mosquitto it shows how much
/// of the gap to mosquitto is the broker library itself rather than storing the message.
/// </summary>
internal sealed class BareMqttBroker : IDisposable
{
    private readonly MqttServer _server;
    private long _published;

    private BareMqttBroker(MqttServer server) => _server = server;

    /// <summary>PUBLISH packets answered since start.</summary>
    public long Published => Interlocked.Read(ref _published);

    public static async Task<BareMqttBroker> StartAsync(int port)
    {
        var options = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(System.Net.IPAddress.Loopback)
            .WithDefaultEndpointPort(port)
            .WithPersistentSessions(false)
            .Build();
        var broker = new BareMqttBroker(new MqttServerFactory().CreateMqttServer(options));
        broker._server.InterceptingPublishAsync += broker.Answer;
        await broker._server.StartAsync();
        return broker;
    }

    public void Dispose() => _server.Dispose();

    private Task Answer(InterceptingPublishEventArgs args)
    {
        // Like the gateway: telemetry is not fanned out to other clients.
        args.ProcessPublish = false;
        Interlocked.Increment(ref _published);
        return Task.CompletedTask;
    }
}
