using Gateway.Cluster;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;
using Gateway.Wal.PostgreSql;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Gateway.Tests.Wal;

/// <summary>A real WAL store of one kind, opened for one test, and a way to read its tables directly.</summary>
public interface IWalUnderTest : IDisposable
{
    IWalStore Store { get; }

    WalFixture.RecordingListener Listener { get; }

    /// <summary>Closes the store and opens a new one on the same database, as a restart would.</summary>
    void Reopen();

    /// <summary>Runs <paramref name="sql"/> (the same text on both databases) on a connection of its own.</summary>
    long Scalar(string sql);

    long CountDeliveries(string sink, DeliveryState state) =>
        Scalar($"SELECT count(*) FROM wal_delivery WHERE sink = '{sink}' AND state = {(int)state}");
}

/// <summary>The SQLite WAL in a temp folder.</summary>
public sealed class SqliteWalUnderTest(WalOptions? options = null) : IWalUnderTest
{
    private readonly WalFixture _fixture = new(options);

    public IWalStore Store => _fixture.Store;

    public WalFixture.RecordingListener Listener => _fixture.Listener;

    public WalFixture Fixture => _fixture;

    public void Reopen() => _fixture.Reopen();

    /// <summary>
    /// Runs <paramref name="sql"/>; one that reads the delivery table runs once the rows of every committed append are
    /// written (see UnwrittenDeliveries), as the store's own reads of it do.
    /// </summary>
    public long Scalar(string sql)
    {
        if (sql.Contains("wal_delivery", StringComparison.Ordinal))
        {
            _fixture.Store.WriteDeliveryRowsAsync().GetAwaiter().GetResult();
        }

        return WalDatabase.Scalar(_fixture.Database.FilePath, sql);
    }

    public void Dispose() => _fixture.Dispose();
}

/// <summary>The PostgreSQL WAL in a database of its own on the test server; <see cref="OpenNode"/> adds another node on it.</summary>
public sealed class PostgreSqlWalUnderTest : IWalUnderTest
{
    private readonly PostgreSqlDatabase _database;
    private readonly WalOptions _options;
    private readonly List<PostgreSqlWalStore> _stores = [];

    private PostgreSqlWalUnderTest(string connectionString, WalOptions? options)
    {
        ConnectionString = connectionString;
        _database = new PostgreSqlDatabase(connectionString);
        _options = options ?? new WalOptions();
        Node = OpenNode();
    }

    public string ConnectionString { get; }

    public PostgreSqlWalStore Node { get; private set; }

    public IWalStore Store => Node;

    public WalFixture.RecordingListener Listener { get; } = new();

    public static async Task<PostgreSqlWalUnderTest> CreateAsync(PostgreSqlServer server, WalOptions? options = null) =>
        new(await server.CreateDatabaseAsync("wal"), options);

    /// <summary>Opens another store on the same database: another node of the cluster.</summary>
    public PostgreSqlWalStore OpenNode(WalFixture.RecordingListener? listener = null, TimeSpan? statisticsRefresh = null)
    {
        var store = new PostgreSqlWalStore(
            _database,
            Microsoft.Extensions.Options.Options.Create(_options),
            Microsoft.Extensions.Options.Options.Create(new GatewayClusterOptions
            {
                Mode = StorageMode.PostgreSql,
                ConnectionString = ConnectionString,
                StatisticsRefreshInterval = statisticsRefresh ?? TimeSpan.FromMilliseconds(100),
            }),
            TimeProvider.System,
            listener ?? Listener,
            WalFixture.NewMetrics(),
            NullLogger<PostgreSqlWalStore>.Instance);
        store.Open();
        _stores.Add(store);
        return store;
    }

    public void Reopen()
    {
        Node.Dispose();
        _stores.Remove(Node);
        Node = OpenNode();
    }

    public long Scalar(string sql) => Scalar(ConnectionString, sql);

    /// <summary>Runs <paramref name="sql"/> on a connection of its own to the database.</summary>
    public static long Scalar(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(command.ExecuteScalar() ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }

        _database.Dispose();
    }
}
