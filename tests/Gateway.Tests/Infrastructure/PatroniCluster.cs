using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// PostgreSQL replicated and failed over by Patroni (Debian packages patroni and etcd-server), as docs/cluster.md
/// lays it out for three Pis, on loopback ports in a temp folder: one etcd member (the DCS; its own redundancy is not
/// under test), and <c>nodes</c> Patroni members, each running a PostgreSQL server, in synchronous strict mode with one
/// synchronous standby. A node can be killed the way a Pi dies (SIGKILL to Patroni and its PostgreSQL at once) and
/// started again from its data folder.
/// </summary>
public sealed class PatroniCluster : IAsyncDisposable
{
    public const string Database = "gateway";
    private const string SystemUser = "postgres";
    private static readonly HttpClient Rest = new() { Timeout = TimeSpan.FromSeconds(3) };
    private readonly TempDirectory _directory = new();
    private readonly List<PatroniNode> _nodes = [];
    private readonly StringBuilder _etcdOutput = new();
    private Process? _etcd;
    private int _etcdPort;

    private PatroniCluster()
    {
    }

    /// <summary>Why the test cannot run here, or null when it can (in CI it always runs, and fails if a package is missing).</summary>
    public static string? MissingReason =>
        ExternalTools.InContinuousIntegration || (ExternalTools.IsInstalled("patroni") && ExternalTools.IsInstalled("etcd") && PostgreSqlServer.IsInstalled)
            ? null
            : "Needs patroni, etcd (Debian packages patroni and etcd-server) and PostgreSQL 15 (installed by .ci/run).";

    public IReadOnlyList<PatroniNode> Nodes => _nodes;

    /// <summary>
    /// The gateway's connection string: every node, and Npgsql picks the one that takes writes. A host found down or
    /// read-only is tried again after a second (Host Recheck Seconds), so a promoted standby is found at once.
    /// </summary>
    public string ConnectionString(int commandTimeoutSeconds = 30, string database = Database) =>
        $"Host={string.Join(',', _nodes.Select(node => $"127.0.0.1:{node.PostgresPort}"))};Username={SystemUser};Database={database};" +
        $"Target Session Attributes=read-write;Host Recheck Seconds=1;Command Timeout={commandTimeoutSeconds};Pooling=true";

    /// <summary>Starts etcd and the nodes, waits for a leader and a synchronous standby, and creates the gateway's database.</summary>
    public static async Task<PatroniCluster> StartAsync(int nodes, bool fsync = false)
    {
        if (MissingReason is null && !(ExternalTools.IsInstalled("patroni") && ExternalTools.IsInstalled("etcd")))
        {
            throw new InvalidOperationException("patroni and etcd are not installed (.ci/run installs the patroni and etcd-server packages).");
        }

        var cluster = new PatroniCluster();
        try
        {
            await cluster.StartEtcdAsync();
            for (var i = 1; i <= nodes; i++)
            {
                cluster._nodes.Add(await cluster.WriteNodeAsync($"node{i}", fsync));
            }

            // The first node bootstraps (initdb) alone, so the others clone it rather than race for the leader key.
            cluster._nodes[0].Start();
            await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(90));
            foreach (var node in cluster._nodes.Skip(1))
            {
                node.Start();
            }

            await cluster.WaitForSynchronousStandbyAsync(TimeSpan.FromSeconds(90));
            await using var connection = new NpgsqlConnection(cluster.ConnectionString(database: "postgres"));
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {Database}", connection);
            await create.ExecuteNonQueryAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The node Patroni has made the leader (the primary), once one answers as such.</summary>
    public async Task<PatroniNode> WaitForLeaderAsync(TimeSpan timeout, PatroniNode? not = null)
    {
        PatroniNode? leader = null;
        await WithStateOnTimeoutAsync(() => Eventually.TrueAsync(async () =>
        {
            foreach (var node in _nodes.Where(node => node.IsRunning && node != not))
            {
                if (await RespondsAsync(node, "primary"))
                {
                    leader = node;
                    return true;
                }
            }

            return false;
        }, $"a Patroni leader{(not is null ? " other than " + not?.Name : "")}", timeout));
        return leader!;
    }

    /// <summary>Waits until some node is the leader's synchronous standby.</summary>
    public Task WaitForSynchronousStandbyAsync(TimeSpan timeout) =>
        WithStateOnTimeoutAsync(() => Eventually.TrueAsync(async () =>
        {
            foreach (var node in _nodes.Where(node => node.IsRunning))
            {
                if (await RespondsAsync(node, "sync"))
                {
                    return true;
                }
            }

            return false;
        }, "a synchronous standby", timeout));

    /// <summary>A count from the gateway's database, on whichever node is the primary now.</summary>
    public async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>Runs <paramref name="wait"/>; if it times out, the exception tells what every node and etcd said.</summary>
    public async Task WithStateOnTimeoutAsync(Func<Task> wait)
    {
        ArgumentNullException.ThrowIfNull(wait);
        try
        {
            await wait();
        }
        catch (TimeoutException error)
        {
            throw new TimeoutException($"{error.Message}\n{Describe()}", error);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            node.Kill();
        }

        if (_etcd is { HasExited: false })
        {
            _etcd.Kill(entireProcessTree: true);
            await _etcd.WaitForExitAsync();
        }

        _etcd?.Dispose();
        _directory.Dispose();
    }

    /// <summary>What each node and etcd said, for a failure message.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        foreach (var node in _nodes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"--- {node.Name} ({(node.IsRunning ? "running" : "stopped")}), last lines:");
            text.AppendLine(node.LastOutput(15));
        }

        lock (_etcdOutput)
        {
            text.AppendLine("--- etcd:").Append(_etcdOutput);
        }

        return text.ToString();
    }

    private static async Task<bool> RespondsAsync(PatroniNode node, string check)
    {
        try
        {
            using var response = await Rest.GetAsync(new Uri($"http://127.0.0.1:{node.RestPort}/{check}"));
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private async Task StartEtcdAsync()
    {
        _etcdPort = FreePort.Next();
        var peerPort = FreePort.Next();
        var start = new ProcessStartInfo(ExternalTools.Find("etcd")!,
        [
            "--name", "dcs", "--data-dir", _directory.Combine("etcd"),
            "--listen-client-urls", $"http://127.0.0.1:{_etcdPort}", "--advertise-client-urls", $"http://127.0.0.1:{_etcdPort}",
            "--listen-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-cluster", $"dcs=http://127.0.0.1:{peerPort}", "--log-level", "warn",
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _etcd = Process.Start(start)!;
        _etcd.OutputDataReceived += (_, line) => AppendEtcd(line.Data);
        _etcd.ErrorDataReceived += (_, line) => AppendEtcd(line.Data);
        _etcd.BeginOutputReadLine();
        _etcd.BeginErrorReadLine();
        await Eventually.TrueAsync(async () =>
        {
            if (_etcd.HasExited)
            {
                throw new InvalidOperationException($"etcd exited with {_etcd.ExitCode}\n{Describe()}");
            }

            try
            {
                using var response = await Rest.GetAsync(new Uri($"http://127.0.0.1:{_etcdPort}/health"));
                return response.IsSuccessStatusCode;
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, "etcd answering", TimeSpan.FromSeconds(30));
    }

    private void AppendEtcd(string? line)
    {
        if (line is not null)
        {
            lock (_etcdOutput)
            {
                _etcdOutput.AppendLine(line);
            }
        }
    }

    private async Task<PatroniNode> WriteNodeAsync(string name, bool fsync)
    {
        var folder = Directory.CreateDirectory(_directory.Combine(name)).FullName;
        var restPort = FreePort.Next();
        var postgresPort = FreePort.Next();
        var configPath = Path.Combine(folder, "patroni.yml");
        // ttl 10 s: a dead leader's key expires (and its synchronous standby takes over) about 10 s after its last renewal.
        // Patroni needs loop_wait + 2 * retry_timeout <= ttl. synchronous_mode_strict: with no synchronous standby left, the
        // primary takes no writes (they wait) instead of committing alone.
        await File.WriteAllTextAsync(configPath, $"""
            scope: gateway
            name: {name}
            restapi:
              listen: 127.0.0.1:{restPort}
              connect_address: 127.0.0.1:{restPort}
            etcd3:
              hosts: 127.0.0.1:{_etcdPort}
            bootstrap:
              dcs:
                ttl: 10
                loop_wait: 1
                retry_timeout: 4
                synchronous_mode: true
                synchronous_mode_strict: true
                synchronous_node_count: 1
                postgresql:
                  use_pg_rewind: false
                  parameters:
                    max_connections: 300
                    fsync: {(fsync ? "on" : "off")}
                    wal_retrieve_retry_interval: 1s
              initdb:
                - encoding: UTF8
                - auth: trust
            postgresql:
              listen: 127.0.0.1:{postgresPort}
              connect_address: 127.0.0.1:{postgresPort}
              data_dir: {Path.Combine(folder, "data")}
              bin_dir: {PostgreSqlServer.BinFolder}
              pgpass: {Path.Combine(folder, "pgpass")}
              authentication:
                replication:
                  username: {SystemUser}
                superuser:
                  username: {SystemUser}
              parameters:
                unix_socket_directories: {folder}
              pg_hba:
                - local all all trust
                - host all all 127.0.0.1/32 trust
                - host replication all 127.0.0.1/32 trust
            """);
        // PostgreSQL refuses to run as root: Patroni and its server run as the package's own user, in folders it owns.
        var (exitCode, output) = await ExternalProgram.RunAsync("chown", ["-R", $"{SystemUser}:{SystemUser}", _directory.Path]);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"chown failed: {output}");
        }

        return new PatroniNode(name, folder, restPort, postgresPort);
    }
}

/// <summary>One Patroni member and the PostgreSQL server it runs.</summary>
public sealed class PatroniNode(string name, string folder, int restPort, int postgresPort)
{
    private Process? _patroni;

    public string Name { get; } = name;

    public int RestPort { get; } = restPort;

    public int PostgresPort { get; } = postgresPort;

    public bool IsRunning => _patroni is { HasExited: false };

    private string LogPath => Path.Combine(folder, "patroni.log");

    /// <summary>Starts Patroni (as the postgres user when the test runs as root), which starts or clones its server.</summary>
    public void Start()
    {
        var patroni = $"{ExternalTools.Find("patroni")} {Path.Combine(folder, "patroni.yml")}";
        var command = Environment.UserName == "root" ? $"runuser -u postgres -- {patroni}" : patroni;
        // Patroni daemonizes its PostgreSQL server, which inherits Patroni's output: written to a file, not to a pipe
        // of the test's, which the orphaned server would hold open. Input is closed, never the test runner's own.
        _patroni = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", $"exec {command} >>{LogPath} 2>&1 </dev/null"]))!;
    }

    /// <summary>
    /// SIGKILL to the node's PostgreSQL server with every backend, and to Patroni: the node's Pi lost its power. The
    /// server goes first, so nothing commits once this returns. It is not Patroni's child (it runs in a session of its
    /// own), so it is found from its pid file, and looked for again in case Patroni restarted it in between.
    /// </summary>
    public void Kill()
    {
        KillPostmaster();
        if (_patroni is { HasExited: false })
        {
            _patroni.Kill(entireProcessTree: true);
            _patroni.WaitForExit();
        }

        _patroni?.Dispose();
        _patroni = null;
        KillPostmaster();
    }

    public string LastOutput(int lines)
    {
        try
        {
            return string.Join('\n', File.ReadLines(LogPath).TakeLast(lines));
        }
        catch (IOException error)
        {
            return error.Message;
        }
    }

    private void KillPostmaster()
    {
        using var postmaster = RunningPostmaster();
        postmaster?.Kill(entireProcessTree: true);
        postmaster?.WaitForExit();
    }

    private Process? RunningPostmaster()
    {
        try
        {
            // The first line of postmaster.pid is the server's pid; the file outlives a killed server, so the pid is checked.
            var pid = int.Parse(File.ReadLines(Path.Combine(folder, "data", "postmaster.pid")).First(), CultureInfo.InvariantCulture);
            var process = Process.GetProcessById(pid);
            if (process.ProcessName == "postgres")
            {
                return process;
            }

            process.Dispose();
            return null;
        }
        catch (Exception error) when (error is IOException or ArgumentException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}

/// <summary>A test that needs Patroni and etcd: skipped with the reason where they are missing, and run (so failing) in CI.</summary>
public sealed class RequiresPatroniFactAttribute : FactAttribute
{
    public RequiresPatroniFactAttribute() => Skip = PatroniCluster.MissingReason;
}
