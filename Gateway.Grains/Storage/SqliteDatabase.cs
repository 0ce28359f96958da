using Microsoft.Data.Sqlite;

namespace Gateway.Storage;

/// <summary>The gateway's one SQLite file: where it is, and how every connection to it is opened.</summary>
public sealed class SqliteDatabase
{
    /// <summary>File name of the database inside the data folder.</summary>
    public const string FileName = "gateway.db";

    /// <summary>Creates the description of the database inside <paramref name="dataPath"/> (created if missing).</summary>
    public SqliteDatabase(string dataPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataPath);
        DataPath = Path.GetFullPath(dataPath);
        Directory.CreateDirectory(DataPath);
        FilePath = Path.Combine(DataPath, FileName);
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>Absolute path of the data folder.</summary>
    public string DataPath { get; }

    /// <summary>Absolute path of the database file.</summary>
    public string FilePath { get; }

    /// <summary>The connection string Orleans' ADO.NET providers and the WAL share.</summary>
    public string ConnectionString { get; }

    /// <summary>
    /// Opens a connection with the settings durability depends on: WAL journal (readers never block the
    /// writer), synchronous=FULL (a commit survives a power cut), and a busy timeout so that Orleans'
    /// own writes and the WAL writer queue for the write lock instead of failing.
    /// </summary>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;";
        pragma.ExecuteNonQuery();
        return connection;
    }
}
