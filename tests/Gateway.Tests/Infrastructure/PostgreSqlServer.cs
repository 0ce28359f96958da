using Npgsql;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL server (Debian's postgresql package: initdb + pg_ctl) in a temp folder on a free loopback
/// port, started once for a test collection. Each test takes a database of its own, so tests never share rows.
/// </summary>
public sealed class PostgreSqlServer : IAsyncLifetime
{
    /// <summary>Where Debian installs the server programs (they are not on PATH).</summary>
    public const string BinFolder = "/usr/lib/postgresql/15/bin";

    private const string SystemUser = "postgres";
    private readonly TempDirectory _directory = new();
    private int _databases;

    /// <summary>True when the server programs are installed; tests that need them skip locally (and fail in CI) otherwise.</summary>
    public static bool IsInstalled => File.Exists(Path.Combine(BinFolder, "pg_ctl"));

    /// <summary>Why a cluster test cannot run here, or null when it can.</summary>
    public static string? MissingReason => IsInstalled || ExternalTools.InContinuousIntegration
        ? null
        : $"Needs PostgreSQL 15 in {BinFolder} (Debian package postgresql, installed by .ci/run).";

    public int Port { get; private set; }

    private string DataFolder => _directory.Combine("data");

    public async Task InitializeAsync()
    {
        if (!IsInstalled)
        {
            if (ExternalTools.InContinuousIntegration)
            {
                // In CI this is a failure, not a skip: the cluster tests must run there.
                throw new InvalidOperationException($"PostgreSQL is not installed in {BinFolder} (.ci/run installs it).");
            }

            return;
        }

        Port = FreePort.Next();
        // initdb refuses to run as root: the server runs as the package's own user, in a folder it owns.
        await RunAsync("chown", ["-R", $"{SystemUser}:{SystemUser}", _directory.Path]);
        await RunAsPostgresAsync("initdb", "-D", DataFolder, "-U", SystemUser, "--auth=trust", "--encoding=UTF8", "--no-sync");
        // fsync off: the tests kill gateways, never the database host, and the loaded CI machine is spared the syncs.
        await RunAsPostgresAsync("pg_ctl", "-D", DataFolder, "-l", _directory.Combine("server.log"), "-w", "-t", "60",
            "-o", $"-p {Port} -c listen_addresses=127.0.0.1 -k {_directory.Path} -c fsync=off -c max_connections=300", "start");
    }

    /// <summary>Creates an empty database and returns a connection string to it.</summary>
    public async Task<string> CreateDatabaseAsync(string purpose)
    {
        var name = $"{new string(purpose.Where(char.IsAsciiLetterOrDigit).ToArray()).ToLowerInvariant()}_{Interlocked.Increment(ref _databases)}";
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        return ConnectionString(name);
    }

    /// <summary>A connection string to <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = SystemUser, Database = database, Pooling = true }.ToString();

    public async Task DisposeAsync()
    {
        if (Directory.Exists(DataFolder))
        {
            await RunAsPostgresAsync("pg_ctl", "-D", DataFolder, "-m", "immediate", "-w", "stop");
        }

        _directory.Dispose();
    }

    private Task RunAsPostgresAsync(string program, params string[] arguments) =>
        Environment.UserName == "root"
            ? RunAsync("runuser", ["-u", SystemUser, "--", Path.Combine(BinFolder, program), .. arguments])
            : RunAsync(Path.Combine(BinFolder, program), arguments);

    private async Task RunAsync(string program, IEnumerable<string> arguments)
    {
        var (exitCode, output) = await ExternalProgram.RunAsync(program, arguments, timeout: TimeSpan.FromSeconds(120));
        if (exitCode != 0)
        {
            var log = _directory.Combine("server.log");
            throw new InvalidOperationException(
                $"{program} exited with {exitCode}: {output}{(File.Exists(log) ? "\nserver log:\n" + await File.ReadAllTextAsync(log) : "")}");
        }
    }
}

/// <summary>The collection every test that needs the PostgreSQL server belongs to: one server for all of them.</summary>
[CollectionDefinition(Name)]
public sealed class PostgreSqlCollection : ICollectionFixture<PostgreSqlServer>
{
    public const string Name = "PostgreSQL";
}

/// <summary>
/// A test that needs PostgreSQL: skipped with the reason where the package is missing, and run (so failing) in CI.
/// </summary>
public sealed class RequiresPostgreSqlFactAttribute : FactAttribute
{
    public RequiresPostgreSqlFactAttribute() => Skip = PostgreSqlServer.MissingReason;
}
