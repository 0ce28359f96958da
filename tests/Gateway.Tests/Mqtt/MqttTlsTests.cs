using Gateway.Tests.Infrastructure;
using MQTTnet;

namespace Gateway.Tests.Mqtt;

[Collection(MqttClusterCollection.Name)]
public sealed class MqttTlsTests(MqttClusterFixture fixture)
{
    [Fact]
    public async Task A_device_with_a_secret_publishes_over_tls()
    {
        var deviceId = MqttTestClient.NewDeviceId("tls");
        var secret = await fixture.ProvisionAsync(deviceId);
        var (client, result) = await MqttTestClient.ConnectAsync(fixture.TlsPort, userName: deviceId, password: secret, tls: true, caPath: fixture.Certificates.CaPath);
        using var _ = client;

        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        Assert.Equal(MqttClientPublishReasonCode.Success, (await client.PublishAsync($"devices/{deviceId}/telemetry", "{}")).ReasonCode);
        Assert.Equal(1, fixture.Stored(deviceId));
    }

    [Fact]
    public async Task A_client_certificate_names_the_device_by_common_name_and_may_publish_only_as_it()
    {
        var deviceId = MqttTestClient.NewDeviceId("cert");
        var other = MqttTestClient.NewDeviceId("other");
        var (client, result) = await MqttTestClient.ConnectAsync(fixture.TlsPort, tls: true, caPath: fixture.Certificates.CaPath,
            certificate: fixture.Certificates.Client(deviceId));
        using var _ = client;

        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        Assert.Equal(MqttClientPublishReasonCode.Success, (await client.PublishAsync($"devices/{deviceId}/telemetry", "{}")).ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await client.PublishAsync($"devices/{other}/telemetry", "{}")).ReasonCode);
        Assert.Equal(1, fixture.Stored(deviceId));
        Assert.Equal(0, fixture.Stored(other));
    }

    [Fact]
    public async Task A_client_certificate_may_name_the_device_in_its_subject_alternative_name()
    {
        var deviceId = MqttTestClient.NewDeviceId("san");
        var (client, result) = await MqttTestClient.ConnectAsync(fixture.TlsPort, tls: true, caPath: fixture.Certificates.CaPath,
            certificate: fixture.Certificates.Client("Sensor batch 7 (not a device id)", deviceId));
        using var _ = client;

        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        Assert.Equal(MqttClientPublishReasonCode.Success, (await client.PublishAsync($"devices/{deviceId}/telemetry", "{}")).ReasonCode);
    }

    [Fact]
    public async Task A_certificate_from_an_unknown_ca_is_refused_and_others_are_unharmed()
    {
        var deviceId = MqttTestClient.NewDeviceId("unknown");
        var (bystander, _) = await MqttTestClient.ConnectAsync(fixture.TlsPort, tls: true, caPath: fixture.Certificates.CaPath,
            certificate: fixture.Certificates.Client(MqttTestClient.NewDeviceId("bystander")));
        using var __ = bystander;

        await Assert.ThrowsAnyAsync<Exception>(() => MqttTestClient.ConnectAsync(fixture.TlsPort, tls: true, caPath: fixture.Certificates.CaPath,
            certificate: fixture.Certificates.Untrusted(deviceId)));

        Assert.Equal(0, fixture.Stored(deviceId));
        Assert.True(bystander.IsConnected);
        await bystander.PingAsync();
    }

    [Fact]
    public async Task The_user_name_cannot_widen_what_the_certificate_names()
    {
        var deviceId = MqttTestClient.NewDeviceId("narrow");
        var (_, result) = await MqttTestClient.ConnectAsync(fixture.TlsPort, userName: MqttTestClient.NewDeviceId("victim"), password: "whatever",
            tls: true, caPath: fixture.Certificates.CaPath, certificate: fixture.Certificates.Client(deviceId));

        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, result.ResultCode);
    }

    [Fact]
    public async Task Anonymous_devices_are_refused_on_the_tls_listener()
    {
        var before = fixture.Metrics.ConnectionsRefusedCount("credentials-required");
        var (_, result) = await MqttTestClient.ConnectAsync(fixture.TlsPort, tls: true, caPath: fixture.Certificates.CaPath);

        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, result.ResultCode);
        Assert.Equal(before + 1, fixture.Metrics.ConnectionsRefusedCount("credentials-required"));
    }
}
