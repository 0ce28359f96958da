using Microsoft.Data.Sqlite;

namespace Gateway.Storage;

/// <summary>The gateway's one SQLite file: where it is, and how every connection to it is opened.</summary>
public sealed class SqliteDatabase
{
    /// <summary>File name of the database inside the data folder.</summary>
    public const string FileName = "gateway.db";

    /// <summary>
    /// Page size of a database this gateway creates (a file made before keeps its own). A commit writes each page it
    /// touches to the journal whole, and an append touches about six: with 1 KiB pages that is a quarter of the
    /// flash writes of SQLite's 4 KiB default, for rows of a few hundred bytes.
    /// </summary>
    public const int PageSize = 1024;

    /// <summary>
    /// Journal pages after which a commit checkpoints them into the database file (SQLite's default is 1,000). The
    /// same hot pages (the tails of the message and delivery tables, the device rows) are committed again and again; a
    /// longer journal writes each of them to the database file once per checkpoint. At 1,000 msgs/s, 16,384 pages (16
    /// MiB of journal) wrote 8.5 KiB per message where 4,096 wrote 10.4 (BENCHMARKS.md, Edge footprint).
    /// </summary>
    public const int AutoCheckpointPages = 16384;

    /// <summary>
    /// Bytes the journal is cut back to after a checkpoint, when a burst has grown it beyond: above what
    /// <see cref="AutoCheckpointPages"/> fills, so the steady journal is reused in place and never cut and grown again.
    /// </summary>
    public const long JournalSizeLimitBytes = 32L * 1024 * 1024;

    /// <summary>
    /// Creates the description of the database inside <paramref name="dataPath"/>, creating the folder if missing with
    /// its name synced: SQLite syncs the directory its journal is created in, not the folders above it.
    /// </summary>
    public SqliteDatabase(string dataPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataPath);
        DataPath = Path.GetFullPath(dataPath);
        DirectorySync.CreateDirectory(DataPath);
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
    /// own writes and the WAL writer queue for the write lock instead of failing; and those that spare the
    /// flash (<see cref="PageSize"/>, <see cref="AutoCheckpointPages"/>, <see cref="JournalSizeLimitBytes"/>).
    /// </summary>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        // page_size first: it takes effect only while the file is still empty, and is ignored after.
        pragma.CommandText = $"PRAGMA page_size={PageSize}; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000; " +
            $"PRAGMA wal_autocheckpoint={AutoCheckpointPages}; PRAGMA journal_size_limit={JournalSizeLimitBytes};";
        pragma.ExecuteNonQuery();
        return connection;
    }
}
