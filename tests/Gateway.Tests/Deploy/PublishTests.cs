using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Deploy;

/// <summary>
/// Runs alone, after the parallel tests: a publish compiles the whole solution again, and beside timing-sensitive
/// tests on a two-core machine it would starve them.
/// </summary>
[CollectionDefinition(nameof(PublishCollection), DisableParallelization = true)]
public sealed class PublishCollection;

/// <summary>The Raspberry Pi build: a self-contained linux-arm64 publish, as deploy/install.sh makes it.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(nameof(PublishCollection))]
public sealed class PublishTests
{
    // ELF header: e_machine at offset 18, 0xB7 for AArch64.
    private const int ElfMachineOffset = 18;
    private const ushort AArch64 = 0xB7;

    [Fact]
    public async Task A_self_contained_linux_arm64_publish_succeeds_and_holds_an_arm64_executable_and_runtime()
    {
        using var output = new TempDirectory();

        var (exitCode, log) = await ExternalProgram.RunAsync("dotnet",
            ["publish", RepositoryFiles.PathOf("Gateway.Silo"), "-c", "Release", "-r", "linux-arm64", "--self-contained", "-o", output.Path, "-nologo"],
            timeout: TimeSpan.FromMinutes(10));

        Assert.True(exitCode == 0, $"dotnet publish (exit {exitCode}):\n{log}");
        var executable = output.Combine("Gateway.Silo");
        Assert.True(File.Exists(executable), "no Gateway.Silo executable");
        Assert.True(File.GetUnixFileMode(executable).HasFlag(UnixFileMode.UserExecute));
        var header = new byte[ElfMachineOffset + 2];
        await using (var stream = File.OpenRead(executable))
        {
            await stream.ReadExactlyAsync(header);
        }

        Assert.Equal(AArch64, BitConverter.ToUInt16(header, ElfMachineOffset));
        // Self-contained: the runtime ships beside the app, so the Pi needs no .NET installed.
        Assert.True(File.Exists(output.Combine("libcoreclr.so")));
        Assert.True(File.Exists(output.Combine("appsettings.json")));
    }
}
