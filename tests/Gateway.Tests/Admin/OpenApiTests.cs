namespace Gateway.Tests.Admin;

[Collection(AdminGatewayCollection.Name)]
public sealed class OpenApiTests(AdminGateway gateway)
{
    [Fact]
    public async Task OpenApi_document_describes_every_admin_endpoint_and_the_bearer_scheme()
    {
        using var admin = gateway.Admin;

        var document = await admin.GetJsonAsync("/admin/v1/openapi.json");

        Assert.StartsWith("3.", document.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = document.GetProperty("paths");
        var expected = new Dictionary<string, string[]>
        {
            ["/admin/v1/devices"] = ["get"],
            ["/admin/v1/devices/{deviceId}"] = ["get"],
            ["/admin/v1/devices/{deviceId}/credentials"] = ["post", "delete"],
            ["/admin/v1/devices/{deviceId}/credentials/rotate"] = ["post"],
            ["/admin/v1/devices/{deviceId}/disable"] = ["post"],
            ["/admin/v1/devices/{deviceId}/enable"] = ["post"],
            ["/admin/v1/sinks"] = ["get"],
            ["/admin/v1/lanes"] = ["get"],
            ["/admin/v1/sinks/{sink}/partitions"] = ["get"],
            ["/admin/v1/sinks/{sink}/pause"] = ["post"],
            ["/admin/v1/sinks/{sink}/resume"] = ["post"],
            ["/admin/v1/messages/{messageId}"] = ["get"],
            ["/admin/v1/wal"] = ["get"],
            ["/admin/v1/dead-letters"] = ["get"],
            ["/admin/v1/dead-letters/replay"] = ["post"],
            ["/admin/v1/dead-letters/purge"] = ["post"],
            ["/admin/v1/tail"] = ["get"],
        };
        foreach (var (path, methods) in expected)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"the document lacks {path}");
            Assert.All(methods, method => Assert.True(item.TryGetProperty(method, out _), $"{path} lacks {method}"));
        }

        Assert.Equal(expected.Keys.Order(), paths.EnumerateObject().Select(path => path.Name).Order());
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
    }
}
