using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.PowerCut;

/// <summary>How the power-cut file system behaves (the switches of tests/PowerCutFs/powercutfs.c).</summary>
public sealed record PowerCutOptions
{
    /// <summary>Names are durable at once (the ordering ext4 gives in practice) instead of at their directory's fsync.</summary>
    public bool Ext4Ordering { get; init; }

    /// <summary>At a cut, a random prefix of the last unsynced write reaches the disk.</summary>
    public bool TearLastWrite { get; init; }

    /// <summary>fsync and O_SYNC on files whose name matches this glob are answered but not honoured (negative controls).</summary>
    public string? IgnoreSyncOf { get; init; }

    /// <summary>Seeds the torn writes' lengths (plus the mount's number), so a failing run can be repeated.</summary>
    public int Seed { get; init; } = Random.Shared.Next();
}

/// <summary>
/// A disk that can lose power: a backing folder (what the disk holds) mounted through powercutfs at
/// <see cref="Path"/>. <see cref="CutPowerAsync"/> drops everything not made durable; <see cref="MountAsync"/> then
/// mounts again on what is left, as the next boot would. Tests using it carry
/// <c>[RequiresToolsFact("gcc", "pkg-config", "fusermount3")]</c>: the compiler, fuse3's headers and fuse3 itself.
/// </summary>
public sealed class PowerCutDisk : IAsyncDisposable
{
    private const int SignalTerminate = 15;
    private const int SignalUser1 = 10; // the power cut; 10 on every Linux architecture the gateway runs on
    private static readonly SemaphoreSlim CompileLock = new(1, 1);
    private static string? _binary;
    private readonly TempDirectory _root = new();
    private readonly StringBuilder _log = new();
    private Process? _process;
    private int _mounts;

    private PowerCutDisk(PowerCutOptions options)
    {
        Options = options;
        Backing = _root.Combine("backing");
        Path = _root.Combine("mount");
        Directory.CreateDirectory(Backing);
        Directory.CreateDirectory(Path);
    }

    /// <summary>The mount point: where programs under test write.</summary>
    public string Path { get; }

    /// <summary>What the disk holds: only what was made durable survives a cut here.</summary>
    public string Backing { get; }

    public PowerCutOptions Options { get; }

    /// <summary>What powercutfs printed since it was last mounted (the torn write's size, errors).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Compiles powercutfs (once per source version) and mounts a fresh disk.</summary>
    public static async Task<PowerCutDisk> CreateAsync(PowerCutOptions? options = null)
    {
        var disk = new PowerCutDisk(options ?? new PowerCutOptions());
        try
        {
            await disk.MountAsync();
            return disk;
        }
        catch
        {
            await disk.DisposeAsync();
            throw;
        }
    }

    /// <summary>Mounts the file system on what the backing folder holds: the boot after a cut.</summary>
    public async Task MountAsync()
    {
        if (_process is not null)
        {
            throw new InvalidOperationException("Already mounted.");
        }

        var binary = await CompileAsync();
        lock (_log)
        {
            _log.Clear();
        }

        // A seed per mount: each boot's cut tears its last write differently, and a failing run can still be repeated.
        List<string> arguments = [$"--seed={Options.Seed + _mounts++}"];
        if (Options.Ext4Ordering)
        {
            arguments.Add("--ext4");
        }

        if (Options.TearLastWrite)
        {
            arguments.Add("--tear");
        }

        if (Options.IgnoreSyncOf is { } glob)
        {
            arguments.Add($"--nosync={glob}");
        }

        arguments.AddRange([Backing, Path]);
        var process = new Process
        {
            StartInfo = new ProcessStartInfo(binary, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false },
        };
        process.OutputDataReceived += (_, line) => Append(line.Data);
        process.ErrorDataReceived += (_, line) => Append(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await Eventually.TrueAsync(() => process.HasExited ? throw new InvalidOperationException($"powercutfs exited: {Log}") : IsMounted(), "powercutfs mounted", TimeSpan.FromSeconds(20));
    }

    /// <summary>
    /// Cuts the power: everything not durable is gone, the mount is detached, and a program still using files on it
    /// gets errors. Returns once the backing folder holds exactly what survived.
    /// </summary>
    public async Task CutPowerAsync() => await StopAsync(SignalUser1);

    /// <summary>A clean unmount: everything written becomes durable, as a clean shutdown of the machine would.</summary>
    public async Task UnmountAsync() => await StopAsync(SignalTerminate);

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await StopAsync(SignalTerminate);
        }

        _root.Dispose();
    }

    private async Task StopAsync(int signal)
    {
        var process = _process ?? throw new InvalidOperationException("Not mounted.");
        if (!process.HasExited && Kill(process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync(CancellationToken.None);
        }

        _process = null;
        process.Dispose();
        // powercutfs detaches the mount itself; a mount left behind (it was killed) must not hide the next one.
        if (IsMounted())
        {
            await ExternalProgram.RunAsync("umount", ["-l", Path]);
        }
    }

    private bool IsMounted() =>
        File.ReadLines("/proc/self/mounts").Any(line => line.Split(' ') is [_, var point, var type, ..] && point == Path && type == "fuse.powercutfs");

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    /// <summary>Builds tests/PowerCutFs/powercutfs.c into the temp folder, named for its content, so a run compiles it once.</summary>
    private static async Task<string> CompileAsync()
    {
        await CompileLock.WaitAsync();
        try
        {
            if (_binary is not null && File.Exists(_binary))
            {
                return _binary;
            }

            var source = RepositoryFiles.PathOf("tests", "PowerCutFs", "powercutfs.c");
            var hash = Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(source)))[..16];
            var folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gateway-tests", "powercutfs");
            Directory.CreateDirectory(folder);
            var binary = System.IO.Path.Combine(folder, $"powercutfs-{hash}");
            if (!File.Exists(binary))
            {
                var (flagsExit, flags) = await ExternalProgram.RunAsync("pkg-config", ["--cflags", "--libs", "fuse3"]);
                Assert.True(flagsExit == 0, $"pkg-config fuse3 (Debian's libfuse3-dev): {flags}");
                var partial = $"{binary}.{Environment.ProcessId}";
                var (exit, output) = await ExternalProgram.RunAsync(
                    "gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", partial, source, .. flags.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]);
                Assert.True(exit == 0, $"gcc powercutfs.c: {output}");
                File.Move(partial, binary, overwrite: true); // atomic: a parallel test run never runs half a binary
            }

            _binary = binary;
            return binary;
        }
        finally
        {
            CompileLock.Release();
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
