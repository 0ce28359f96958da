using System.Net.Sockets;
using System.Text;
using Gateway.Devices;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Gateway.Tests.Mqtt;

[Collection(MqttClusterCollection.Name)]
public sealed class MqttIngestTests(MqttClusterFixture fixture)
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Fact]
    public async Task A_qos1_message_is_stored_before_its_puback_and_reaches_the_sink_with_topic_and_properties()
    {
        var deviceId = MqttTestClient.NewDeviceId();
        var (client, connected) = await MqttTestClient.ConnectAsync(fixture.Port);
        using var _ = client;
        Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);

        var message = new MqttApplicationMessageBuilder()
            .WithTopic($"devices/{deviceId}/telemetry/engine")
            .WithPayload("""{"rpm":900}""")
            .WithContentType("application/json")
            .WithUserProperty("message-id", Encoding.UTF8.GetBytes("m-1").AsMemory())
            .WithUserProperty("traceparent", Encoding.UTF8.GetBytes(TraceParent).AsMemory())
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        var published = await client.PublishAsync(message);

        Assert.Equal(MqttClientPublishReasonCode.Success, published.ReasonCode);
        // PUBACK after commit: the row is there the moment the PUBACK arrives.
        Assert.Equal(1, fixture.Stored(deviceId));

        var line = await EventuallyDeliveredAsync(deviceId, 1);
        Assert.Equal($"devices/{deviceId}/telemetry/engine", line[0].Line.GetProperty("topic").GetString());
        // The device's trace continues: its own traceparent, or (when another in-process gateway of the test run has
        // switched span recording on for the process) the ingest span's, a child in the same trace.
        var stored = line[0].Line.GetProperty("traceparent").GetString()!;
        Assert.Equal(TraceParent.Split('-')[1], stored.Split('-')[1]);
        Assert.Equal(900, line[0].Line.GetProperty("payload").GetProperty("rpm").GetInt32());

        // The same device message id again is a retransmission: acknowledged, not stored twice.
        Assert.Equal(MqttClientPublishReasonCode.Success, (await client.PublishAsync(message)).ReasonCode);
        Assert.Equal(1, fixture.Stored(deviceId));
    }

    [Fact]
    public async Task A_qos0_message_is_stored_best_effort_and_counted()
    {
        var deviceId = MqttTestClient.NewDeviceId();
        var before = fixture.Metrics.AcceptedCount(0);
        var (client, _) = await MqttTestClient.ConnectAsync(fixture.Port, MqttProtocolVersion.V311);
        using var __ = client;

        await client.PublishAsync($"devices/{deviceId}/telemetry", """{"n":1}""", MqttQualityOfServiceLevel.AtMostOnce);

        // Counted once the grain call returns, just after the commit the WAL shows.
        await Eventually.TrueAsync(() => fixture.Stored(deviceId) == 1 && fixture.Metrics.AcceptedCount(0) > before, "the QoS 0 message stored and counted");
    }

    [Fact]
    public async Task Device_cannot_publish_as_another_device_and_keeps_its_connection_over_mqtt5()
    {
        var alice = MqttTestClient.NewDeviceId("alice");
        var bob = MqttTestClient.NewDeviceId("bob");
        var secret = await fixture.ProvisionAsync(alice);
        var before = fixture.Metrics.RefusedCount("not-authorized");
        var (client, connected) = await MqttTestClient.ConnectAsync(fixture.Port, userName: alice, password: secret);
        using var _ = client;
        Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);

        var impersonation = await client.PublishAsync($"devices/{bob}/telemetry", """{"spoofed":true}""");

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, impersonation.ReasonCode);
        Assert.Equal(0, fixture.Stored(bob));
        Assert.True(fixture.Metrics.RefusedCount("not-authorized") > before);
        var own = await client.PublishAsync($"devices/{alice}/telemetry", """{"honest":true}""");
        Assert.Equal(MqttClientPublishReasonCode.Success, own.ReasonCode);
        Assert.Equal(1, fixture.Stored(alice));
    }

    [Fact]
    public async Task Device_cannot_publish_as_another_device_over_mqtt311_it_gets_no_puback_and_is_disconnected()
    {
        var alice = MqttTestClient.NewDeviceId("alice");
        var bob = MqttTestClient.NewDeviceId("bob");
        var secret = await fixture.ProvisionAsync(alice);
        var (client, _) = await MqttTestClient.ConnectAsync(fixture.Port, MqttProtocolVersion.V311, alice, secret);
        using var __ = client;
        var (bystander, ___) = await MqttTestClient.ConnectAsync(fixture.Port, MqttProtocolVersion.V311);
        using var ____ = bystander;

        await Assert.ThrowsAnyAsync<Exception>(() => client.PublishAsync($"devices/{bob}/telemetry", "{}"));

        await Eventually.TrueAsync(() => !client.IsConnected, "the impersonating client disconnected");
        Assert.Equal(0, fixture.Stored(bob));
        var other = MqttTestClient.NewDeviceId();
        Assert.Equal(MqttClientPublishReasonCode.Success, (await bystander.PublishAsync($"devices/{other}/telemetry", "{}")).ReasonCode);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V500, MqttClientConnectResultCode.BadUserNameOrPassword)]
    [InlineData(MqttProtocolVersion.V311, MqttClientConnectResultCode.BadUserNameOrPassword)]
    public async Task A_wrong_secret_an_unknown_device_and_a_revoked_secret_are_refused_at_connect(MqttProtocolVersion protocol, MqttClientConnectResultCode expected)
    {
        var deviceId = MqttTestClient.NewDeviceId();
        var secret = await fixture.ProvisionAsync(deviceId);
        var before = fixture.Metrics.ConnectionsRefusedCount("bad-credentials");

        Assert.Equal(expected, (await MqttTestClient.ConnectAsync(fixture.Port, protocol, deviceId, secret + "x")).Result.ResultCode);
        Assert.Equal(expected, (await MqttTestClient.ConnectAsync(fixture.Port, protocol, MqttTestClient.NewDeviceId(), secret)).Result.ResultCode);
        Assert.Equal(MqttClientConnectResultCode.Success, (await MqttTestClient.ConnectAsync(fixture.Port, protocol, deviceId, secret)).Result.ResultCode);

        var rotated = await fixture.Cluster.GrainFactory.GetGrain<IDeviceCredentialsGrain>(deviceId).RotateAsync();
        Assert.Equal(expected, (await MqttTestClient.ConnectAsync(fixture.Port, protocol, deviceId, secret)).Result.ResultCode);
        Assert.Equal(MqttClientConnectResultCode.Success, (await MqttTestClient.ConnectAsync(fixture.Port, protocol, deviceId, rotated)).Result.ResultCode);

        await fixture.Cluster.GrainFactory.GetGrain<IDeviceCredentialsGrain>(deviceId).RevokeAsync();
        Assert.Equal(expected, (await MqttTestClient.ConnectAsync(fixture.Port, protocol, deviceId, rotated)).Result.ResultCode);
        Assert.Equal(before + 4, fixture.Metrics.ConnectionsRefusedCount("bad-credentials"));
    }

    [Theory]
    [InlineData("devices/{0}/status")]
    [InlineData("devices/{0}/telemetry/")]
    [InlineData("devices/{0}/telemetry//x")]
    [InlineData("devices//telemetry")]
    [InlineData("devices/bad device/telemetry")]
    [InlineData("other/{0}/telemetry")]
    [InlineData("devices/{0}/telemetry/{1}")]
    public async Task A_malformed_or_too_long_topic_is_refused_with_topic_name_invalid(string pattern)
    {
        var deviceId = MqttTestClient.NewDeviceId();
        var topic = string.Format(System.Globalization.CultureInfo.InvariantCulture, pattern, deviceId, new string('x', 300));
        var (client, _) = await MqttTestClient.ConnectAsync(fixture.Port);
        using var __ = client;

        var result = await client.PublishAsync(topic, "{}");

        Assert.Equal(MqttClientPublishReasonCode.TopicNameInvalid, result.ReasonCode);
        Assert.Equal(0, fixture.Stored(deviceId));
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task Malformed_json_is_refused_with_payload_format_invalid()
    {
        var deviceId = MqttTestClient.NewDeviceId();
        var (client, _) = await MqttTestClient.ConnectAsync(fixture.Port);
        using var __ = client;

        var message = new MqttApplicationMessageBuilder().WithTopic($"devices/{deviceId}/telemetry").WithPayload("{not json")
            .WithContentType("application/json").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
        var result = await client.PublishAsync(message);

        Assert.Equal(MqttClientPublishReasonCode.PayloadFormatInvalid, result.ReasonCode);
        Assert.Equal(0, fixture.Stored(deviceId));
    }

    [Fact]
    public async Task An_oversized_payload_closes_only_its_connection_with_packet_too_large_and_stores_nothing()
    {
        var deviceId = MqttTestClient.NewDeviceId();
        var (client, _) = await MqttTestClient.ConnectAsync(fixture.Port);
        using var __ = client;
        var (bystander, ___) = await MqttTestClient.ConnectAsync(fixture.Port);
        using var ____ = bystander;
        MqttClientDisconnectedEventArgs? disconnected = null;
        client.DisconnectedAsync += args =>
        {
            disconnected = args;
            return Task.CompletedTask;
        };

        await Assert.ThrowsAnyAsync<Exception>(() => client.PublishAsync($"devices/{deviceId}/telemetry", new byte[MqttClusterFixture.MaxPayloadBytes + 1]));

        await Eventually.TrueAsync(() => disconnected is not null, "the client disconnected");
        Assert.Equal(MqttClientDisconnectReason.PacketTooLarge, disconnected!.Reason);
        Assert.Equal(0, fixture.Stored(deviceId));
        Assert.Equal(MqttClientPublishReasonCode.Success,
            (await bystander.PublishAsync($"devices/{deviceId}/telemetry", new byte[MqttClusterFixture.MaxPayloadBytes])).ReasonCode);
    }

    [Fact]
    public async Task A_device_may_hold_only_its_maximum_number_of_connections()
    {
        var deviceId = MqttTestClient.NewDeviceId();
        var secret = await fixture.ProvisionAsync(deviceId);
        var open = new List<IMqttClient>();
        try
        {
            for (var i = 0; i < MqttClusterFixture.MaxConnectionsPerDevice; i++)
            {
                var (client, result) = await MqttTestClient.ConnectAsync(fixture.Port, userName: deviceId, password: secret);
                Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
                open.Add(client);
            }

            Assert.Equal(MqttClientConnectResultCode.QuotaExceeded,
                (await MqttTestClient.ConnectAsync(fixture.Port, userName: deviceId, password: secret)).Result.ResultCode);
            Assert.Equal(MqttClientConnectResultCode.ServerUnavailable,
                (await MqttTestClient.ConnectAsync(fixture.Port, MqttProtocolVersion.V311, deviceId, secret)).Result.ResultCode);

            await open[0].DisconnectAsync();
            await Eventually.TrueAsync(async () =>
                (await MqttTestClient.ConnectAsync(fixture.Port, userName: deviceId, password: secret)).Result.ResultCode == MqttClientConnectResultCode.Success,
                "a connection admitted once another closed");
        }
        finally
        {
            open.ForEach(client => client.Dispose());
        }
    }

    [Fact]
    public async Task A_device_cannot_take_over_another_devices_client_id()
    {
        var alice = MqttTestClient.NewDeviceId("alice");
        var mallory = MqttTestClient.NewDeviceId("mallory");
        var aliceSecret = await fixture.ProvisionAsync(alice);
        var mallorySecret = await fixture.ProvisionAsync(mallory);
        var clientId = "shared-" + alice;
        var (aliceClient, _) = await MqttTestClient.ConnectAsync(fixture.Port, userName: alice, password: aliceSecret, clientId: clientId);
        using var __ = aliceClient;

        var (_, takeover) = await MqttTestClient.ConnectAsync(fixture.Port, userName: mallory, password: mallorySecret, clientId: clientId);

        Assert.Equal(MqttClientConnectResultCode.ClientIdentifierNotValid, takeover.ResultCode);
        Assert.True(aliceClient.IsConnected);
        Assert.Equal(MqttClientPublishReasonCode.Success, (await aliceClient.PublishAsync($"devices/{alice}/telemetry", "{}")).ReasonCode);
    }

    [Fact]
    public async Task Connack_advertises_the_in_flight_and_packet_size_limits()
    {
        var (client, result) = await MqttTestClient.ConnectAsync(fixture.Port);
        using var _ = client;

        Assert.Equal((ushort)MqttClusterFixture.MaxInFlightPerClient, result.ReceiveMaximum);
        Assert.True(result.MaximumPacketSize > MqttClusterFixture.MaxPayloadBytes);
        Assert.Equal(MqttQualityOfServiceLevel.AtLeastOnce, result.MaximumQoS);
    }

    [Fact]
    public async Task Telemetry_is_not_fanned_out_to_subscribers_by_default()
    {
        var deviceId = MqttTestClient.NewDeviceId();
        var (subscriber, _) = await MqttTestClient.ConnectAsync(fixture.Port);
        using var __ = subscriber;
        var received = 0;
        subscriber.ApplicationMessageReceivedAsync += _ =>
        {
            Interlocked.Increment(ref received);
            return Task.CompletedTask;
        };
        var subscription = await subscriber.SubscribeAsync($"devices/{deviceId}/#");
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, subscription.Items.Single().ResultCode);

        var (publisher, ___) = await MqttTestClient.ConnectAsync(fixture.Port);
        using var ____ = publisher;
        Assert.Equal(MqttClientPublishReasonCode.Success, (await publisher.PublishAsync($"devices/{deviceId}/telemetry", "{}")).ReasonCode);
        // A ping round trip after the publish: anything fanned out would have been sent before the PINGRESP.
        await subscriber.PingAsync();
        Assert.Equal(0, received);
    }

    [Fact]
    public async Task The_plaintext_listener_binds_only_the_configured_ipv4_loopback_address()
    {
        using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync(System.Net.IPAddress.IPv6Loopback, fixture.Port));
    }

    [Fact]
    public async Task Many_clients_publishing_at_once_share_group_commits()
    {
        const int clients = 40;
        const int messagesPerClient = 10;
        var store = (IWalStore)fixture.Cluster.GetSiloServiceProvider().GetService(typeof(IWalStore))!;
        var connected = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => MqttTestClient.ConnectAsync(fixture.Port)));
        var deviceIds = connected.Select(_ => MqttTestClient.NewDeviceId("group")).ToArray();
        var before = store.GetStatistics();

        await Task.WhenAll(connected.Select(async (c, i) =>
        {
            for (var n = 0; n < messagesPerClient; n++)
            {
                var result = await c.Client.PublishAsync($"devices/{deviceIds[i]}/telemetry", $$"""{"n":{{n}}}""");
                Assert.Equal(MqttClientPublishReasonCode.Success, result.ReasonCode);
            }
        }));

        var after = store.GetStatistics();
        foreach (var (client, _) in connected)
        {
            client.Dispose();
        }

        var appended = after.AppendedMessages - before.AppendedMessages;
        var transactions = after.Transactions - before.Transactions;
        Assert.True(appended >= clients * messagesPerClient);
        // Each client waits for its PUBACK before the next message, so one transaction per message would mean
        // the clients were served one after another.
        Assert.True(transactions < appended / 2, $"{transactions} transactions for {appended} messages");
        foreach (var deviceId in deviceIds)
        {
            var lines = await EventuallyDeliveredAsync(deviceId, messagesPerClient);
            Assert.Equal(Enumerable.Range(0, messagesPerClient), lines.Select(line => line.Line.GetProperty("payload").GetProperty("n").GetInt32()));
        }
    }

    private async Task<List<SinkLine>> EventuallyDeliveredAsync(string deviceId, int count)
    {
        List<SinkLine> lines = [];
        await Eventually.TrueAsync(() => (lines = fixture.Delivered(deviceId)).Count >= count, $"{count} messages of {deviceId} in the sink");
        return lines;
    }
}
