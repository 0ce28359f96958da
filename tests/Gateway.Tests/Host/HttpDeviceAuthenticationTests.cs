using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Devices;
using Gateway.Ingest;
using Gateway.Ingest.Credentials;
using Gateway.Ingest.Http;
using Gateway.Ingest.Mqtt;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Operations;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Host;

/// <summary>HTTP ingest with anonymous posting off: every request authenticates as its device with HTTP Basic.</summary>
[Collection(AuthenticatedHttpGatewayCollection.Name)]
public sealed class HttpDeviceAuthenticationTests(AuthenticatedHttpGateway gateway)
{
    private const string Json = """{"temperature":21.5}""";

    [Fact]
    public async Task A_device_posting_with_its_own_secret_is_accepted()
    {
        var deviceId = AuthenticatedHttpGateway.NewDeviceId();
        var secret = await gateway.ProvisionAsync(deviceId);

        using var response = await PostAsync(deviceId, Basic(deviceId, secret));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal([$"gateway:{deviceId}:1"], await response.AcceptedIdsAsync());
    }

    [Fact]
    public async Task Without_credentials_a_post_is_refused_401_with_a_Basic_challenge_and_nothing_is_stored()
    {
        var deviceId = AuthenticatedHttpGateway.NewDeviceId();
        await gateway.ProvisionAsync(deviceId);

        using var response = await PostAsync(deviceId, authorization: null);

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "credentials-required");
        Assert.Equal("Basic", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.Equal(0, await gateway.AcceptedCountAsync(deviceId));
    }

    [Fact]
    public async Task A_wrong_secret_or_an_unknown_device_is_refused_401_and_nothing_is_stored()
    {
        var deviceId = AuthenticatedHttpGateway.NewDeviceId();
        var secret = await gateway.ProvisionAsync(deviceId);
        var unprovisioned = AuthenticatedHttpGateway.NewDeviceId();

        using var wrongSecret = await PostAsync(deviceId, Basic(deviceId, secret + "x"));
        using var unknownDevice = await PostAsync(unprovisioned, Basic(unprovisioned, secret));

        await wrongSecret.AssertProblemAsync(HttpStatusCode.Unauthorized, "bad-credentials");
        await unknownDevice.AssertProblemAsync(HttpStatusCode.Unauthorized, "bad-credentials");
        Assert.Equal(0, await gateway.AcceptedCountAsync(deviceId));
        Assert.Equal(0, await gateway.AcceptedCountAsync(unprovisioned));
    }

    [Theory]
    [InlineData("Bearer abc")]
    [InlineData("Basic not-base64!")]
    [InlineData("Basic bm8tY29sb24=")] // "no-colon"
    public async Task A_malformed_Authorization_header_is_refused_401(string header)
    {
        var deviceId = AuthenticatedHttpGateway.NewDeviceId();

        using var response = await PostAsync(deviceId, AuthenticationHeaderValue.Parse(header));

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "bad-credentials");
    }

    [Fact]
    public async Task A_device_posting_as_another_is_refused_403_and_neither_device_is_harmed()
    {
        var deviceA = AuthenticatedHttpGateway.NewDeviceId();
        var deviceB = AuthenticatedHttpGateway.NewDeviceId();
        var secretA = await gateway.ProvisionAsync(deviceA);
        var secretB = await gateway.ProvisionAsync(deviceB);

        using var impersonation = await PostAsync(deviceB, Basic(deviceA, secretA));
        using var ownA = await PostAsync(deviceA, Basic(deviceA, secretA));
        using var ownB = await PostAsync(deviceB, Basic(deviceB, secretB));

        var problem = await impersonation.AssertProblemAsync(HttpStatusCode.Forbidden, "not-authorized");
        Assert.Contains(deviceA, problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Accepted, ownA.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, ownB.StatusCode);
        Assert.Equal([$"gateway:{deviceB}:1"], await ownB.AcceptedIdsAsync());
    }

    [Fact]
    public async Task A_secret_over_plaintext_from_another_machine_is_refused_403_unless_plaintext_secrets_are_allowed()
    {
        var deviceId = AuthenticatedHttpGateway.NewDeviceId();
        var secret = await gateway.ProvisionAsync(deviceId);
        var authenticator = gateway.Services.GetRequiredService<HttpDeviceAuthenticator>();
        var trusting = new HttpDeviceAuthenticator(gateway.Services.GetRequiredService<DeviceCredentialCheck>(),
            Options.Create(new HttpIngestOptions { AllowAnonymous = false, AllowPlaintextCredentials = true }));

        var fromNetwork = await authenticator.AuthorizeAsync(PlaintextRequest(deviceId, secret, OtherMachine), deviceId);
        var fromLoopback = await authenticator.AuthorizeAsync(PlaintextRequest(deviceId, secret, IPAddress.Loopback), deviceId);
        var allowed = await trusting.AuthorizeAsync(PlaintextRequest(deviceId, secret, OtherMachine), deviceId);

        Assert.NotNull(fromNetwork);
        var context = new DefaultHttpContext { RequestServices = gateway.Services };
        await fromNetwork.ExecuteAsync(context);
        Assert.Equal(StatusCodes.Status403Forbidden, context.Response.StatusCode);
        Assert.Equal(IngestReasons.PlaintextCredentials, Problems.ReasonOf(fromNetwork));
        Assert.Null(fromLoopback);
        Assert.Null(allowed);
    }

    [Fact]
    public async Task Mqtt_applies_the_same_plaintext_and_anonymous_rules_through_the_shared_check()
    {
        var deviceId = AuthenticatedHttpGateway.NewDeviceId();
        var secret = await gateway.ProvisionAsync(deviceId);
        var check = gateway.Services.GetRequiredService<DeviceCredentialCheck>();
        var mqtt = new MqttIngestOptions { AllowAnonymous = true };

        var secretFromNetwork = await check.CheckAsync(new CredentialAttempt(deviceId, secret, null, IsSecure: false, OtherMachine), mqtt.PlaintextPolicy);
        var secretFromLoopback = await check.CheckAsync(new CredentialAttempt(deviceId, secret, null, IsSecure: false, IPAddress.Loopback), mqtt.PlaintextPolicy);
        var anonymousFromNetwork = await check.CheckAsync(new CredentialAttempt(null, null, null, IsSecure: false, OtherMachine), mqtt.PlaintextPolicy);
        var anonymousFromLoopback = await check.CheckAsync(new CredentialAttempt(null, null, null, IsSecure: false, IPAddress.Loopback), mqtt.PlaintextPolicy);
        var anonymousOverTls = await check.CheckAsync(new CredentialAttempt(null, null, null, IsSecure: true, IPAddress.Loopback), mqtt.TlsPolicy);

        Assert.Equal(IngestReasons.PlaintextCredentials, secretFromNetwork.Reason);
        Assert.Equal(deviceId, secretFromLoopback.Identity?.DeviceId);
        Assert.Equal(IngestReasons.CredentialsRequired, anonymousFromNetwork.Reason);
        Assert.True(anonymousFromLoopback.IsAuthenticated);
        Assert.Equal(IngestReasons.CredentialsRequired, anonymousOverTls.Reason);
    }

    // TEST-NET-1 (RFC 5737): an address that is not loopback and belongs to no one.
    private static readonly IPAddress OtherMachine = IPAddress.Parse("192.0.2.1");

    private static DefaultHttpContext PlaintextRequest(string deviceId, string secret, IPAddress remoteAddress)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = remoteAddress;
        context.Request.Headers.Authorization = Basic(deviceId, secret).ToString();
        return context;
    }

    private static AuthenticationHeaderValue Basic(string deviceId, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{deviceId}:{secret}")));

    private async Task<HttpResponseMessage> PostAsync(string deviceId, AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/devices/{deviceId}/telemetry")
        {
            Content = new StringContent(Json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = authorization;
        return await gateway.Http.SendAsync(request);
    }

}

/// <summary>The in-process gateway with <c>Gateway:Http:AllowAnonymous=false</c>.</summary>
public sealed class AuthenticatedHttpGateway() : InProcessGateway(new Dictionary<string, string?>
{
    ["Gateway:Http:AllowAnonymous"] = "false",
    // These tests send wrong secrets from 127.0.0.1 beside right ones; the throttle has its own tests, on addresses of their own.
    ["Gateway:Authentication:MaxFailedAuthentications"] = "1000",
})
{
    public static string NewDeviceId() => "auth-" + Guid.NewGuid().ToString("N")[..12];

    private IGrainFactory Grains => Services.GetRequiredService<IGrainFactory>();

    /// <summary>Gives the device a secret and returns it.</summary>
    public async Task<string> ProvisionAsync(string deviceId) =>
        await Grains.GetGrain<IDeviceCredentialsGrain>(deviceId).ProvisionAsync() ?? throw new InvalidOperationException($"{deviceId} already had a secret");

    /// <summary>How many messages the device's grain has stored.</summary>
    public async Task<long> AcceptedCountAsync(string deviceId) => (await Grains.GetGrain<IDeviceGrain>(deviceId).GetStatusAsync()).AcceptedCount;
}

[CollectionDefinition(Name)]
public sealed class AuthenticatedHttpGatewayCollection : ICollectionFixture<AuthenticatedHttpGateway>
{
    public const string Name = "authenticated-http-gateway";
}
