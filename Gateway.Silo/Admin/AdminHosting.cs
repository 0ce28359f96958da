using Gateway.Ingest.Http;
using Gateway.Silo.Hosting;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Gateway.Silo.Admin;

/// <summary>The admin HTTP API under <c>/admin/v1</c> on the operations port, with its OpenAPI document.</summary>
public static class AdminHosting
{
    /// <summary>Path prefix of every admin endpoint.</summary>
    public const string Prefix = "/admin/v1";

    /// <summary>Path of the OpenAPI document.</summary>
    public const string OpenApiPath = Prefix + "/openapi.json";

    // MapOpenApi serves the document named "v1" at a pattern without {documentName}.
    private const string DocumentName = "v1";

    /// <summary>Registers the admin options, the bearer token and the OpenAPI document.</summary>
    public static WebApplicationBuilder AddGatewayAdmin(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<AdminToken>();
        builder.Services.AddOpenApi(DocumentName, openApi =>
        {
            openApi.ShouldInclude = description => description.RelativePath?.StartsWith(Prefix[1..], StringComparison.Ordinal) == true;
            openApi.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo { Title = "Gateway admin API", Version = "v1" };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "The admin token: Gateway:Admin:Token, Gateway:Admin:TokenFile, or the generated {DataPath}/admin-token.",
                };
                document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] }];
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    /// <summary>Maps every admin endpoint, answering only on the operations port and only with the bearer token.</summary>
    public static WebApplication MapGatewayAdmin(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!app.Services.GetRequiredService<IOptions<AdminOptions>>().Value.Enabled)
        {
            return app;
        }

        // Resolved now so a bad token file stops the start, with the key named, instead of failing the first request.
        app.Services.GetRequiredService<AdminToken>();
        var port = app.Services.GetRequiredService<IOptions<OperationsOptions>>().Value.Port;
        var admin = app.MapGroup(Prefix);
        admin.RequireLocalPort(port);
        admin.RequireAdminToken();
        admin.MapOpenApi(OpenApiPath[Prefix.Length..]).ExcludeFromDescription();
        DeviceAdminEndpoints.Map(admin);
        SinkAdminEndpoints.Map(admin);
        LaneAdminEndpoints.Map(admin);
        MessageAdminEndpoints.Map(admin);
        DeadLetterAdminEndpoints.Map(admin);
        TailEndpoints.Map(admin);
        return app;
    }
}
