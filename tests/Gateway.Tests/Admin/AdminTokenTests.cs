using Gateway.Silo.Admin;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Admin;

public sealed class AdminTokenTests
{
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Without_a_configured_token_one_is_generated_into_the_data_folder_readable_by_the_owner_only()
    {
        using var data = new TempDirectory();

        var token = Create(new AdminOptions(), data.Path);

        var path = Path.Combine(data.Path, AdminOptions.GeneratedTokenFileName);
        Assert.Equal(path, token.Source);
        var generated = File.ReadAllText(path);
        Assert.True(generated.Length >= 32);
        Assert.True(token.Matches(generated));
        Assert.False(token.Matches(generated[..^1]));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        // The next start keeps the same token: scripts holding it go on working.
        Assert.True(Create(new AdminOptions(), data.Path).Matches(generated));
    }

    [Fact]
    public void Configured_token_wins_and_a_token_file_is_read_trimmed()
    {
        using var data = new TempDirectory();
        var file = data.Combine("token.txt");
        File.WriteAllText(file, "  token-from-a-mounted-secret\n");

        Assert.True(Create(new AdminOptions { Token = "configured-token-0123456789" }, data.Path).Matches("configured-token-0123456789"));
        Assert.True(Create(new AdminOptions { TokenFile = file }, data.Path).Matches("token-from-a-mounted-secret"));
        Assert.False(File.Exists(Path.Combine(data.Path, AdminOptions.GeneratedTokenFileName)));
    }

    [Fact]
    public void Short_or_missing_token_file_stops_the_start_naming_the_key()
    {
        using var data = new TempDirectory();
        var file = data.Combine("short.txt");
        File.WriteAllText(file, "short");

        Assert.Contains("Gateway:Admin:TokenFile", Assert.Throws<InvalidOperationException>(() => Create(new AdminOptions { TokenFile = file }, data.Path)).Message);
        Assert.Contains("Gateway:Admin:TokenFile", Assert.Throws<InvalidOperationException>(() => Create(new AdminOptions { TokenFile = file + ".missing" }, data.Path)).Message);
    }

    private static AdminToken Create(AdminOptions options, string dataPath) =>
        new(Options.Create(options), Options.Create(new GatewayOptions { DataPath = dataPath }), NullLogger<AdminToken>.Instance);
}
