using System.Net;
using System.Text;
using Gateway.Silo.Admin;
using Gateway.Sinks;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.PowerCut;

/// <summary>
/// Every file and folder the gateway creates must keep its name across a power cut once the gateway relies on it: a
/// synced file in a folder whose entry never reached the disk is lost all the same. Each test fails without the
/// directory fsync it checks (the power-cut file system makes a name durable only at its directory's fsync).
/// </summary>
public sealed class DurableNamesTests
{
    private static WalRecord Record(long sequence) => new()
    {
        DeliveryId = sequence,
        MessageId = $"gw:d:{sequence}",
        DeviceId = "d",
        Sequence = sequence,
        ReceivedAt = DateTimeOffset.UnixEpoch,
        ContentType = MediaTypes.Json,
        Payload = Encoding.UTF8.GetBytes($$"""{"n":{{sequence}},"pad":"{{new string('p', 100)}}"}"""),
        Topic = "devices/d/telemetry",
    };

    [RequiresToolsFact("gcc", "pkg-config", "fusermount3")]
    public async Task Batches_the_file_sink_delivered_survive_a_power_cut_in_its_new_folder_and_rotated_files()
    {
        await using var disk = await PowerCutDisk.CreateAsync();
        using (var sink = new FileSink("file", disk.Combine("data", "sink", "file"), maxFileBytes: 1024))
        {
            for (var batch = 0; batch < 6; batch++)
            {
                var records = Enumerable.Range(batch * 4, 4).Select(n => Record(n)).ToList();
                Assert.Equal(DeliveryOutcome.Delivered, (await sink.DeliverAsync(records, CancellationToken.None)).Outcome);
            }

            Assert.True(Directory.GetFiles(sink.Folder).Length > 2, "the sink never rotated");
            await disk.CutPowerAsync(); // with the current file still open, as at a real cut
        }

        var left = SinkFiles.Read(Path.Combine(disk.Backing, "data", "sink", "file"));
        Assert.Equal(Enumerable.Range(0, 24).Select(n => (long)n), left.Select(line => line.Sequence));
    }

    [RequiresToolsFact("gcc", "pkg-config", "fusermount3")]
    public async Task A_generated_admin_token_survives_a_power_cut_so_the_operator_s_copy_keeps_working()
    {
        await using var disk = await PowerCutDisk.CreateAsync();
        var data = disk.Combine("data");
        var token = new AdminToken(Options.Create(new AdminOptions()), Options.Create(new GatewayOptions { DataPath = data }), NullLogger<AdminToken>.Instance);
        var generated = await File.ReadAllTextAsync(token.Source); // what the operator copies on first start

        await disk.CutPowerAsync();

        var left = Path.Combine(disk.Backing, "data", AdminOptions.GeneratedTokenFileName);
        Assert.True(File.Exists(left), "the generated token file is gone: the next start makes a new token");
        Assert.Equal(generated, await File.ReadAllTextAsync(left));
    }

    /// <summary>
    /// First start on a data folder that does not exist yet: the gateway creates the folder and the database, answers
    /// 202 for a message, and the power goes. The message must be there at the next boot.
    /// </summary>
    [RequiresToolsFact("gcc", "pkg-config", "fusermount3")]
    public async Task A_message_accepted_on_first_start_survives_a_power_cut_with_the_data_folder_and_database()
    {
        await using var disk = await PowerCutDisk.CreateAsync();
        var data = disk.Combine("var", "gateway");
        string id;
        // A configured admin token: the generated one (tested above) would create the data folder before the database.
        var settings = new Dictionary<string, string> { ["Gateway:Admin:Token"] = "a-configured-admin-token-0123456789" };
        await using (var gateway = await GatewayProcess.StartAsync(data, settings))
        {
            using var response = await gateway.Http.PostJsonAsync("first-start", """{"n":1}""");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            id = (await response.AcceptedIdsAsync()).Single();
            await disk.CutPowerAsync();
            gateway.Kill();
        }

        await disk.MountAsync();
        var database = Path.Combine(data, "gateway.db");
        Assert.True(File.Exists(database), $"{database} is gone after the cut");
        Assert.Equal("ok", PowerCutChecks.IntegrityCheck(database));
        Assert.Equal(1, PowerCutChecks.Count(database, "SELECT count(*) FROM wal_message WHERE message_id = $id", ("$id", id)));
    }
}

/// <summary>Reads a database left by a power cut, through a read-write connection (SQLite recovers the WAL on open).</summary>
public static class PowerCutChecks
{
    public static string IntegrityCheck(string databasePath) => (string)Query(databasePath, "PRAGMA integrity_check")!;

    public static long Count(string databasePath, string sql, params (string Name, object Value)[] parameters) =>
        Convert.ToInt64(Query(databasePath, sql, parameters), System.Globalization.CultureInfo.InvariantCulture);

    private static object? Query(string databasePath, string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command.ExecuteScalar();
    }
}
