using Gateway.Sinks;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Egress;

public sealed class SinkOptionsValidationTests
{
    private static IEnumerable<string> Failures(params SinkOptions[] sinks) =>
        new SinkListOptionsValidator().Validate(null, new SinkListOptions { Sinks = [.. sinks] }).Failures ?? [];

    [Fact]
    public void Plaintext_http_is_refused_unless_the_sink_opts_in()
    {
        var plaintext = new SinkOptions { Name = "cloud", Type = "http", Url = new Uri("http://cloud.example/ingest") };

        Assert.Contains(Failures(plaintext), f => f.StartsWith("Gateway:Sinks:0:Url:", StringComparison.Ordinal) && f.Contains("AllowInsecure"));
        plaintext.AllowInsecure = true;
        Assert.Empty(Failures(plaintext));
        Assert.Empty(Failures(new SinkOptions { Name = "cloud", Type = "http", Url = new Uri("https://cloud.example/ingest") }));
    }

    [Fact]
    public void At_most_256_sinks_are_accepted_one_delivery_id_per_sink_and_message()
    {
        SinkOptions[] Files(int count) => [.. Enumerable.Range(0, count).Select(i => new SinkOptions { Name = $"file{i}", Type = "file" })];

        Assert.Empty(Failures(Files(256)));
        Assert.Contains(Failures(Files(257)), f => f.StartsWith("Gateway:Sinks: 257 sinks", StringComparison.Ordinal));
    }

    [Fact]
    public void Each_type_names_its_missing_settings()
    {
        Assert.Contains(Failures(new SinkOptions { Name = "cloud", Type = "http" }), f => f.StartsWith("Gateway:Sinks:0:Url", StringComparison.Ordinal));
        Assert.Contains(Failures(new SinkOptions { Name = "up", Type = "mqtt" }), f => f.StartsWith("Gateway:Sinks:0:Host", StringComparison.Ordinal));
        Assert.Contains(Failures(new SinkOptions { Name = "x", Type = "ftp" }), f => f.StartsWith("Gateway:Sinks:0:Type", StringComparison.Ordinal));
    }

    [Fact]
    public void Duplicate_names_bad_topic_filters_and_missing_certificate_files_are_named()
    {
        var failures = Failures(
            new SinkOptions { Name = "a", Type = "file" },
            new SinkOptions { Name = "a", Type = "file", Topics = ["devices/#/x"], CaCertificatePath = "/nonexistent/ca.pem" }).ToList();

        Assert.Contains(failures, f => f.StartsWith("Gateway:Sinks:1:Name", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Gateway:Sinks:1:Topics", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Gateway:Sinks:1:CaCertificatePath", StringComparison.Ordinal));
    }

    [Fact]
    public void A_token_file_must_exist_hold_a_secret_belong_to_an_http_sink_and_name_a_valid_header()
    {
        using var directory = new TempDirectory();
        var empty = directory.Combine("empty-token");
        File.WriteAllText(empty, "");
        var url = new Uri("https://cloud.example/ingest");

        var failures = Failures(
            new SinkOptions { Name = "a", Type = "http", Url = url, TokenFile = directory.Combine("missing") },
            new SinkOptions { Name = "b", Type = "http", Url = url, TokenFile = empty },
            new SinkOptions { Name = "c", Type = "file", TokenFile = empty },
            new SinkOptions { Name = "d", Type = "http", Url = url, TokenFile = empty, TokenHeader = "not a header" }).ToList();

        Assert.Contains(failures, f => f.StartsWith("Gateway:Sinks:0:TokenFile", StringComparison.Ordinal) && f.Contains("does not exist", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Gateway:Sinks:1:TokenFile", StringComparison.Ordinal) && f.Contains("is empty", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Gateway:Sinks:2:TokenFile", StringComparison.Ordinal) && f.Contains("only an http sink", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Gateway:Sinks:3:TokenHeader", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_gateway_refuses_to_start_with_a_plaintext_sink()
    {
        using var directory = new TempDirectory();

        var (exitCode, output) = await GatewayProcess.RunToExitAsync(directory.Path, new Dictionary<string, string>
        {
            ["Gateway:Sinks:0:Name"] = "cloud",
            ["Gateway:Sinks:0:Type"] = "http",
            ["Gateway:Sinks:0:Url"] = "http://127.0.0.1:9/ingest",
        });

        Assert.Equal(2, exitCode);
        Assert.Contains("Gateway:Sinks:0:Url", output);
    }
}
