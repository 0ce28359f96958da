using System.Text;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Mqtt;
using MQTTnet;

namespace Gateway.Tests.Hardening;

/// <summary>
/// Well-behaved devices publishing beside an attack: one MQTT 5 client (QoS 1) and one HTTP sender, on 127.0.0.1,
/// each sending a message every few milliseconds until stopped. Every send must be acknowledged, and every
/// acknowledged message must reach the sink.
/// </summary>
public sealed class HonestDevices : IAsyncDisposable
{
    private readonly GatewayProcess _gateway;
    private readonly IMqttClient _mqtt;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _failures = [];
    private readonly Task _mqttLoop;
    private readonly Task _httpLoop;

    private HonestDevices(GatewayProcess gateway, IMqttClient mqtt)
    {
        _gateway = gateway;
        _mqtt = mqtt;
        MqttDeviceId = MqttTestClient.NewDeviceId("honest-mqtt");
        HttpDeviceId = MqttTestClient.NewDeviceId("honest-http");
        _mqttLoop = Task.Run(PublishLoopAsync);
        _httpLoop = Task.Run(PostLoopAsync);
    }

    public string MqttDeviceId { get; }

    public string HttpDeviceId { get; }

    public int MqttAcknowledged { get; private set; }

    public int HttpAccepted { get; private set; }

    /// <summary>Connects the MQTT device (before any attack, as a device already in service would be) and starts both.</summary>
    public static async Task<HonestDevices> StartAsync(GatewayProcess gateway)
    {
        var (client, result) = await MqttTestClient.ConnectAsync(gateway.MqttPort);
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        using var warmUp = await gateway.Http.PostJsonAsync("warm-up", "{}");
        return new HonestDevices(gateway, client);
    }

    /// <summary>Stops sending; fails the test if any send was not acknowledged, or if nothing was sent at all.</summary>
    public async Task StopAndAssertAllAcknowledgedAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_mqttLoop, _httpLoop);
        Assert.True(_failures.Count == 0, $"honest traffic failed during the attack:\n{string.Join('\n', _failures.Take(10))}");
        Assert.True(MqttAcknowledged > 0 && HttpAccepted > 0, $"honest traffic made no progress: {MqttAcknowledged} MQTT, {HttpAccepted} HTTP");
    }

    /// <summary>Waits until the sink holds every message the honest devices had acknowledged.</summary>
    public Task AssertAllDeliveredAsync() =>
        Eventually.TrueAsync(() =>
        {
            var lines = SinkFiles.Read(_gateway.SinkFolder);
            return lines.Count(line => line.DeviceId == MqttDeviceId) >= MqttAcknowledged
                && lines.Count(line => line.DeviceId == HttpDeviceId) >= HttpAccepted;
        }, "every acknowledged honest message to reach the sink", TimeSpan.FromSeconds(60));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_mqttLoop, _httpLoop).ContinueWith(_ => { }, TaskScheduler.Default);
        _mqtt.Dispose();
        _stop.Dispose();
    }

    private async Task PublishLoopAsync()
    {
        for (var i = 0; !_stop.IsCancellationRequested; i++)
        {
            try
            {
                var result = await _mqtt.PublishAsync($"devices/{MqttDeviceId}/telemetry", Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"));
                if (result.ReasonCode == MqttClientPublishReasonCode.Success)
                {
                    MqttAcknowledged++;
                }
                else
                {
                    Fail($"MQTT publish {i}: {result.ReasonCode}");
                }
            }
            catch (Exception error)
            {
                Fail($"MQTT publish {i}: {error.GetType().Name} {error.Message}");
                return;
            }

            await Pause();
        }
    }

    private async Task PostLoopAsync()
    {
        for (var i = 0; !_stop.IsCancellationRequested; i++)
        {
            try
            {
                using var response = await _gateway.Http.PostJsonAsync(HttpDeviceId, $"{{\"n\":{i}}}");
                if (response.IsSuccessStatusCode)
                {
                    HttpAccepted++;
                }
                else
                {
                    Fail($"HTTP post {i}: {(int)response.StatusCode}");
                }
            }
            catch (Exception error)
            {
                Fail($"HTTP post {i}: {error.GetType().Name} {error.Message}");
                return;
            }

            await Pause();
        }
    }

    private Task Pause() => Task.Delay(20, CancellationToken.None);

    private void Fail(string failure)
    {
        lock (_failures)
        {
            _failures.Add(failure);
        }
    }
}
