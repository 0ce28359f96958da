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
        Assert.Equal(AdminAccess.Full, token.Check(generated));
        Assert.NotEqual(AdminAccess.Full, token.Check(generated[..^1]));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        // The next start keeps the same token: scripts holding it go on working.
        Assert.Equal(AdminAccess.Full, Create(new AdminOptions(), data.Path).Check(generated));
    }

    [Fact]
    public void Configured_token_wins_and_a_token_file_is_read_trimmed()
    {
        using var data = new TempDirectory();
        var file = data.Combine("token.txt");
        File.WriteAllText(file, "  token-from-a-mounted-secret\n");

        Assert.Equal(AdminAccess.Full, Create(new AdminOptions { Token = "configured-token-0123456789" }, data.Path).Check("configured-token-0123456789"));
        Assert.Equal(AdminAccess.Full, Create(new AdminOptions { TokenFile = file }, data.Path).Check("token-from-a-mounted-secret"));
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

    [Fact]
    public void A_replaced_token_file_rotates_the_token_without_a_restart()
    {
        using var data = new TempDirectory();
        var file = data.Combine("token.txt");
        File.WriteAllText(file, "first-token-0123456789");
        var token = Create(new AdminOptions { TokenFile = file }, data.Path);
        Assert.Equal(AdminAccess.Full, token.Check("first-token-0123456789"));

        // As a secret manager does: a new file renamed over the old one.
        File.WriteAllText(file + ".new", "second-token-0123456789");
        File.Move(file + ".new", file, overwrite: true);

        Assert.Equal(AdminAccess.Full, token.Check("second-token-0123456789"));
        Assert.NotEqual(AdminAccess.Full, token.Check("first-token-0123456789"));
    }

    [Fact]
    public void A_token_file_that_stops_holding_a_valid_token_lets_no_one_in()
    {
        using var data = new TempDirectory();
        var file = data.Combine("token.txt");
        File.WriteAllText(file, "first-token-0123456789");
        var token = Create(new AdminOptions { TokenFile = file }, data.Path);

        File.WriteAllText(file, "short");
        Assert.Equal(AdminAccess.None, token.Check("first-token-0123456789"));
        Assert.Equal(AdminAccess.None, token.Check("short"));
        File.Delete(file);
        Assert.Equal(AdminAccess.None, token.Check("first-token-0123456789"));
    }

    [Fact]
    public void The_read_only_token_grants_reading_only_and_is_rotated_from_its_file_too()
    {
        using var data = new TempDirectory();
        var file = data.Combine("read-only.txt");
        File.WriteAllText(file, "read-only-token-0123456789");
        var token = Create(new AdminOptions { Token = "full-token-0123456789", ReadOnlyTokenFile = file }, data.Path);

        Assert.Equal(AdminAccess.Full, token.Check("full-token-0123456789"));
        Assert.Equal(AdminAccess.ReadOnly, token.Check("read-only-token-0123456789"));
        Assert.NotEqual(AdminAccess.Full, token.Check("read-only-token-0123456789"));
        File.WriteAllText(file, "another-read-only-token-0123");
        Assert.Equal(AdminAccess.ReadOnly, token.Check("another-read-only-token-0123"));
        Assert.Equal(AdminAccess.None, token.Check("read-only-token-0123456789"));
    }

    [Fact]
    public void A_read_only_token_equal_to_the_admin_token_stops_the_start()
    {
        using var data = new TempDirectory();

        var error = Assert.Throws<InvalidOperationException>(() =>
            Create(new AdminOptions { Token = "same-token-0123456789", ReadOnlyToken = "same-token-0123456789" }, data.Path));
        Assert.Contains("Gateway:Admin:ReadOnlyToken", error.Message);
    }

    private static AdminToken Create(AdminOptions options, string dataPath) =>
        new(Options.Create(options), Options.Create(new GatewayOptions { DataPath = dataPath }), NullLogger<AdminToken>.Instance);
}
