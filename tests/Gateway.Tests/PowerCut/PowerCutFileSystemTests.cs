using System.Diagnostics;
using System.Text;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Gateway.Tests.PowerCut;

/// <summary>
/// The power-cut file system itself, through real files on the mount: it must lose exactly what a real power cut
/// loses (unsynced data, names whose directory was not synced) and keep what was made durable, or the gateway's
/// power-cut tests prove nothing.
/// </summary>
public sealed class PowerCutFileSystemTests(ITestOutputHelper output)
{
    [RequiresToolsFact("gcc", "pkg-config", "fusermount3")]
    public async Task An_unsynced_write_vanishes_at_a_power_cut_and_a_synced_one_survives()
    {
        await using var disk = await PowerCutDisk.CreateAsync();
        var path = disk.Combine("file");
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            file.Write("durable."u8);
            file.Flush(flushToDisk: true);
        }

        DirectorySync.Sync(disk.Path);
        await using (var file = new FileStream(path, FileMode.Append, FileAccess.Write))
        {
            file.Write("volatile"u8);
        }

        Assert.Equal("durable.volatile", await File.ReadAllTextAsync(path)); // reads see the volatile layer
        await disk.CutPowerAsync();

        Assert.Equal("durable.", await File.ReadAllTextAsync(Path.Combine(disk.Backing, "file")));
    }

    [RequiresToolsFact("gcc", "pkg-config", "fusermount3")]
    public async Task A_write_through_an_o_sync_handle_is_durable_on_return()
    {
        await using var disk = await PowerCutDisk.CreateAsync(new PowerCutOptions { Ext4Ordering = true });
        await using (var file = new FileStream(disk.Combine("file"), FileMode.CreateNew, FileAccess.Write, FileShare.Read, 4096, FileOptions.WriteThrough))
        {
            file.Write("written through"u8);
            file.Flush();
            await disk.CutPowerAsync(); // while the handle is still open
        }

        Assert.Equal("written through", await File.ReadAllTextAsync(Path.Combine(disk.Backing, "file")));
    }

    [RequiresToolsTheory("gcc", "pkg-config", "fusermount3")]
    [InlineData(false, false, false)]
    [InlineData(true, false, true)]
    [InlineData(false, true, true)]
    public async Task A_new_file_keeps_its_name_across_a_cut_only_after_its_directory_is_synced(bool syncDirectory, bool ext4Ordering, bool survives)
    {
        await using var disk = await PowerCutDisk.CreateAsync(new PowerCutOptions { Ext4Ordering = ext4Ordering });
        Directory.CreateDirectory(disk.Combine("folder"));
        DirectorySync.Sync(disk.Path);
        await using (var file = new FileStream(disk.Combine("folder", "new"), FileMode.CreateNew, FileAccess.Write))
        {
            file.Write("data synced, name maybe not"u8);
            file.Flush(flushToDisk: true);
        }

        if (syncDirectory)
        {
            DirectorySync.Sync(disk.Combine("folder"));
        }

        await disk.CutPowerAsync();

        var backing = Path.Combine(disk.Backing, "folder", "new");
        Assert.Equal(survives, File.Exists(backing));
        if (survives)
        {
            Assert.Equal("data synced, name maybe not", await File.ReadAllTextAsync(backing));
        }
    }

    [RequiresToolsFact("gcc", "pkg-config", "fusermount3")]
    public async Task A_new_folder_is_lost_with_everything_in_it_unless_its_parent_is_synced()
    {
        await using var disk = await PowerCutDisk.CreateAsync();
        DirectorySync.CreateDirectory(disk.Combine("kept", "deeper"));
        Directory.CreateDirectory(disk.Combine("lost"));
        foreach (var folder in new[] { disk.Combine("kept", "deeper"), disk.Combine("lost") })
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "file"), "x");
            using (var handle = File.OpenHandle(Path.Combine(folder, "file"), FileMode.Open, FileAccess.ReadWrite))
            {
                RandomAccess.FlushToDisk(handle);
            }

            DirectorySync.Sync(folder); // the file's name is durable in its folder, but is the folder's?
        }

        await disk.CutPowerAsync();

        Assert.True(File.Exists(Path.Combine(disk.Backing, "kept", "deeper", "file")));
        Assert.False(Directory.Exists(Path.Combine(disk.Backing, "lost")));
    }

    [RequiresToolsFact("gcc", "pkg-config", "fusermount3")]
    public async Task A_rename_without_a_directory_sync_reverts_at_a_cut_and_one_with_it_stays()
    {
        await using var disk = await PowerCutDisk.CreateAsync();
        foreach (var name in new[] { "a", "b", "target" })
        {
            await File.WriteAllTextAsync(disk.Combine(name), name);
            using var handle = File.OpenHandle(disk.Combine(name), FileMode.Open, FileAccess.ReadWrite);
            RandomAccess.FlushToDisk(handle);
        }

        DirectorySync.Sync(disk.Path);
        File.Move(disk.Combine("a"), disk.Combine("a-renamed"));
        DirectorySync.Sync(disk.Path);
        File.Move(disk.Combine("b"), disk.Combine("target"), overwrite: true); // replaces target, never synced
        Assert.Equal("b", await File.ReadAllTextAsync(disk.Combine("target")));

        await disk.CutPowerAsync();

        var names = Directory.GetFiles(disk.Backing).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["a-renamed", "b", "target"], names);
        Assert.Equal("target", await File.ReadAllTextAsync(Path.Combine(disk.Backing, "target")));
        Assert.Equal("b", await File.ReadAllTextAsync(Path.Combine(disk.Backing, "b")));
    }

    [RequiresToolsFact("gcc", "pkg-config", "fusermount3")]
    public async Task An_unlink_without_a_directory_sync_reverts_at_a_cut()
    {
        await using var disk = await PowerCutDisk.CreateAsync();
        await File.WriteAllTextAsync(disk.Combine("file"), "still here");
        using (var handle = File.OpenHandle(disk.Combine("file"), FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.FlushToDisk(handle);
        }

        DirectorySync.Sync(disk.Path);
        File.Delete(disk.Combine("file"));
        Assert.False(File.Exists(disk.Combine("file")));

        await disk.CutPowerAsync();

        Assert.Equal("still here", await File.ReadAllTextAsync(Path.Combine(disk.Backing, "file")));
    }

    [RequiresToolsFact("gcc", "pkg-config", "fusermount3")]
    public async Task A_torn_write_leaves_a_prefix_of_the_last_unsynced_write_and_nothing_of_the_others()
    {
        await using var disk = await PowerCutDisk.CreateAsync(new PowerCutOptions { TearLastWrite = true, Ext4Ordering = true });
        // Within one page: the kernel splits a longer write at page boundaries, and the harness tears the last piece.
        var last = Encoding.ASCII.GetBytes(new string('z', 1000));
        await using (var file = new FileStream(disk.Combine("file"), FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0))
        {
            file.Write("durable|"u8);
            file.Flush(flushToDisk: true);
            file.Write("lost|"u8);
            file.Write(last);
            await disk.CutPowerAsync();
        }

        var left = await File.ReadAllBytesAsync(Path.Combine(disk.Backing, "file"));
        output.WriteLine(disk.Log);
        Assert.StartsWith("durable|", Encoding.ASCII.GetString(left), StringComparison.Ordinal);
        // The last write went to offset 13 ("durable|lost|"); the torn prefix lands there, the write before is lost.
        Assert.InRange(left.Length, 8, 13 + last.Length - 1);
        Assert.All(left.Skip(13), b => Assert.Equal((byte)'z', b));
        Assert.All(left.Skip(8).Take(Math.Min(5, left.Length - 8)), b => Assert.Equal(0, b));
    }

    /// <summary>
    /// SQLite in WAL mode with synchronous=FULL on the mount: two connections (one mmaps the -shm), automatic
    /// checkpoints every 50 pages, a torn last write, a cut at a random moment mid-stream: every committed
    /// transaction is there afterwards, and the file is intact. With synchronous=OFF (negative control) committed
    /// transactions are lost: the file system sees the missing syncs.
    /// </summary>
    [RequiresToolsTheory("gcc", "pkg-config", "fusermount3", "python3")]
    [InlineData("FULL", false)]
    [InlineData("OFF", true)]
    public async Task Sqlite_in_wal_mode_keeps_every_committed_transaction_across_a_cut_only_when_it_syncs(string synchronous, bool expectLoss)
    {
        await using var disk = await PowerCutDisk.CreateAsync(new PowerCutOptions { TearLastWrite = true });
        var database = disk.Combine("test.db");
        var committed = new List<long>();
        using var writer = Process.Start(new ProcessStartInfo("python3", ["-u", "-c", SqliteWriterScript, database, synchronous])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var errors = writer.StandardError.ReadToEndAsync();
        writer.OutputDataReceived += (_, line) =>
        {
            if (line.Data is { } text && long.TryParse(text, out var id))
            {
                lock (committed)
                {
                    committed.Add(id);
                }
            }
        };
        writer.BeginOutputReadLine();

        var cutAfter = Random.Shared.Next(300, 1200);
        await Eventually.TrueAsync(() =>
        {
            lock (committed)
            {
                return writer.HasExited ? throw new InvalidOperationException($"the writer exited: {errors.Result}") : committed.Count >= cutAfter;
            }
        }, $"{cutAfter} commits", TimeSpan.FromSeconds(60));
        await disk.CutPowerAsync();
        writer.Kill();
        await writer.WaitForExitAsync();
        writer.WaitForExit(); // the output of the last lines has been read

        await disk.MountAsync();
        string integrity;
        long rows, highest;
        await using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString()))
        {
            await connection.OpenAsync();
            integrity = Scalar<string>(connection, "PRAGMA integrity_check");
            // Without syncs even the table can go: a torn rewrite of the log's header at a restart of the log
            // (after a checkpoint) invalidates the synced frames that created it. That too is loss.
            var tableLeft = Scalar<long>(connection, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 't'") == 1;
            rows = tableLeft ? Scalar<long>(connection, "SELECT count(*) FROM t") : 0;
            highest = tableLeft ? Scalar<long>(connection, "SELECT coalesce(max(id), 0) FROM t") : 0;
        }

        var lastCommitted = committed.Max();
        output.WriteLine($"synchronous={synchronous}: {committed.Count} committed before the cut, {rows} rows after it; {disk.Log}");
        Assert.Equal("ok", integrity);
        if (expectLoss)
        {
            Assert.True(highest < lastCommitted, $"synchronous=OFF kept all {committed.Count} commits: the file system did not drop unsynced data");
        }
        else
        {
            Assert.True(highest >= lastCommitted, $"the last committed row {lastCommitted} is gone (highest left {highest})");
            Assert.Equal(highest, rows); // no holes: every committed transaction, in order
        }
    }

    private static T Scalar<T>(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)command.ExecuteScalar()!;
    }

    // The table is created with synchronous=FULL in both modes, so the negative control mostly loses rows, not the table.
    private const string SqliteWriterScript = """
        import sqlite3, sys
        path, synchronous = sys.argv[1], sys.argv[2]
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA synchronous=FULL")
        writer.execute("PRAGMA wal_autocheckpoint=50")
        writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        writer.execute("PRAGMA synchronous=" + synchronous)
        reader = sqlite3.connect(path, isolation_level=None)
        n = 0
        while True:
            n += 1
            writer.execute("INSERT INTO t (id, body) VALUES (?, ?)", (n, "x" * (100 + n % 700)))
            print(n)
            if n % 50 == 0:
                reader.execute("SELECT count(*) FROM t").fetchone()
        """;
}
