using System.Net;
using System.Security.Authentication;
using Gateway.Cluster;
using Gateway.Ingest.Http;
using Gateway.Ingest.Tls;
using Gateway.Silo.Health;
using Gateway.Silo.Storage;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Gateway.Silo.Hosting;

/// <summary>The host's building blocks, each called once from Program.cs.</summary>
public static class GatewayHosting
{
    /// <summary>
    /// Runs the Orleans silo with the gateway's storage and grains: a single silo (localhost clustering) by default,
    /// or one node of a cluster whose membership is in PostgreSQL (<c>Gateway:Cluster:Mode=PostgreSql</c>).
    /// </summary>
    public static WebApplicationBuilder AddGatewaySilo(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<OrleansHostOptions>().BindConfiguration(OrleansHostOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var orleans = builder.Configuration.GetSection(OrleansHostOptions.Section).Get<OrleansHostOptions>() ?? new OrleansHostOptions();
        builder.UseOrleans(silo =>
        {
            var cluster = builder.Configuration.GetSection(GatewayClusterOptions.Section).Get<GatewayClusterOptions>() ?? new GatewayClusterOptions();
            if (cluster.IsCluster)
            {
                silo.ConfigureClusterNode(orleans);
            }
            else
            {
                silo.UseLocalhostClustering(orleans.SiloPort, orleans.GatewayPort, serviceId: orleans.ServiceId, clusterId: orleans.ClusterId);
            }

            silo.Configure<GrainDirectoryOptions>(options => options.CacheSize = orleans.DirectoryCacheSize);
            silo.AddGatewayStorage();
            silo.AddGatewayGrains();
            silo.AddReadinessTracking();
        });
        return builder;
    }

    private static void ConfigureClusterNode(this ISiloBuilder silo, OrleansHostOptions orleans)
    {
        silo.Configure<ClusterOptions>(options =>
        {
            options.ClusterId = orleans.ClusterId;
            options.ServiceId = orleans.ServiceId;
        });
        if (string.IsNullOrEmpty(orleans.AdvertisedAddress))
        {
            silo.ConfigureEndpoints(orleans.SiloPort, orleans.GatewayPort, listenOnAnyHostAddress: true);
        }
        else
        {
            var advertised = IPAddress.Parse(orleans.AdvertisedAddress);
            silo.ConfigureEndpoints(advertised, orleans.SiloPort, orleans.GatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(advertised));
        }
    }

    /// <summary>Listens for ingest and for operations on their own ports and addresses.</summary>
    public static WebApplicationBuilder AddGatewayListeners(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHttpIngest();
        builder.Services.AddOptions<OperationsOptions>().BindConfiguration(OperationsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var ingest = kestrel.ApplicationServices.GetRequiredService<IOptions<HttpIngestOptions>>().Value;
            var operations = kestrel.ApplicationServices.GetRequiredService<IOptions<OperationsOptions>>().Value;
            kestrel.Listen(IPAddress.Parse(ingest.BindAddress), ingest.Port);
            if (ingest.TlsEnabled)
            {
                var certificate = kestrel.ApplicationServices.GetRequiredKeyedService<ReloadingServerCertificate>(TelemetryEndpoints.HttpsCertificateKey);
                kestrel.Listen(IPAddress.Parse(ingest.TlsBindAddress), ingest.TlsPort, listen => listen.UseHttps(HttpsOptions(ingest, certificate)));
            }

            kestrel.Listen(IPAddress.Parse(operations.BindAddress), operations.Port);
            kestrel.AddServerHeader = false;
            ApplyLimits(kestrel.Limits, ingest);
        });
        return builder;
    }

    // TLS 1.2 and 1.3 only. The certificate is asked for at every handshake, so a renewal on disk is served at once;
    // a client certificate, when asked for, must chain to the device CA (ClientCertificates), as over MQTT.
    private static HttpsConnectionAdapterOptions HttpsOptions(HttpIngestOptions ingest, ReloadingServerCertificate certificate)
    {
        var https = new HttpsConnectionAdapterOptions
        {
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ServerCertificateSelector = (_, _) => certificate.Current,
            HandshakeTimeout = ingest.TlsHandshakeTimeout,
            CheckCertificateRevocation = false,
        };
        if (!string.IsNullOrEmpty(ingest.ClientCaPath))
        {
            var devices = new ClientCertificates(ClientCertificates.LoadBundle(ingest.ClientCaPath, "Gateway:Http:ClientCaPath"), ingest.RequireClientCertificate);
            https.ClientCertificateMode = ingest.RequireClientCertificate ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.AllowCertificate;
            https.ClientCertificateValidation = (presented, chain, _) => devices.IsTrusted(presented, chain);
        }

        return https;
    }

    // Kestrel's limits are per server, so they cover the operations port too; each refusal shows in the
    // kestrel.* metrics with its reason (error.type) rather than reaching the endpoints.
    private static void ApplyLimits(KestrelServerLimits limits, HttpIngestOptions ingest)
    {
        limits.MaxConcurrentConnections = ingest.MaxConnections;
        limits.MaxConcurrentUpgradedConnections = ingest.MaxConnections;
        limits.MaxRequestHeadersTotalSize = ingest.MaxRequestHeaderBytes;
        limits.MaxRequestLineSize = Math.Min(limits.MaxRequestLineSize, ingest.MaxRequestHeaderBytes);
        limits.MaxRequestHeaderCount = ingest.MaxRequestHeaderCount;
        limits.RequestHeadersTimeout = ingest.RequestHeadersTimeout;
        limits.KeepAliveTimeout = ingest.KeepAliveTimeout;
        limits.MinRequestBodyDataRate = new MinDataRate(ingest.MinRequestBodyBytesPerSecond, ingest.RequestBodyGracePeriod);
        // The ingest endpoint raises its own requests' limit to Gateway:Http:MaxRequestBytes; nothing else needs more.
        limits.MaxRequestBodySize = ingest.MaxRequestBytes;
        limits.Http2.MaxRequestHeaderFieldSize = Math.Min(limits.Http2.MaxRequestHeaderFieldSize, ingest.MaxRequestHeaderBytes);
    }
}
