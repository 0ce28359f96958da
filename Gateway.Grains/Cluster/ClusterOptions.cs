using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Gateway.Cluster;

/// <summary>Where the gateway keeps its state: one SQLite file (one silo) or a shared PostgreSQL database (a cluster).</summary>
public enum StorageMode
{
    /// <summary>One silo, everything in the SQLite file under the data folder (the default).</summary>
    Single,

    /// <summary>Several silos as one cluster: membership, grain state, reminders and the WAL in PostgreSQL.</summary>
    PostgreSql,
}

/// <summary>Settings under <c>Gateway:Cluster</c>: the storage mode and, in cluster mode, the shared database.</summary>
public sealed class GatewayClusterOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gateway:Cluster";

    /// <summary><c>Single</c> (default) or <c>PostgreSql</c>.</summary>
    public StorageMode Mode { get; set; } = StorageMode.Single;

    /// <summary>Npgsql connection string of the shared database (cluster mode); never logged.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>How long start-up waits for the database to answer before it gives up.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Gateway:Cluster:DatabaseWaitTimeout must be between 1 second and 1 day.")]
    public TimeSpan DatabaseWaitTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often a node reads the cluster-wide WAL counts (backpressure and metrics) when it commits nothing itself.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00", ErrorMessage = "Gateway:Cluster:StatisticsRefreshInterval must be between 10 ms and 1 minute.")]
    public TimeSpan StatisticsRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>True in cluster mode.</summary>
    public bool IsCluster => Mode == StorageMode.PostgreSql;
}

/// <summary>Rules across the cluster settings.</summary>
public sealed class GatewayClusterOptionsValidator : IValidateOptions<GatewayClusterOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, GatewayClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Enum.IsDefined(options.Mode))
        {
            return ValidateOptionsResult.Fail("Gateway:Cluster:Mode must be Single or PostgreSql.");
        }

        if (options.IsCluster && string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Fail("Gateway:Cluster:ConnectionString must be set when Gateway:Cluster:Mode is PostgreSql.");
        }

        if (options.IsCluster)
        {
            try
            {
                _ = new Npgsql.NpgsqlConnectionStringBuilder(options.ConnectionString);
            }
            catch (ArgumentException error)
            {
                // The message names the bad keyword, never the value (which may hold a password).
                return ValidateOptionsResult.Fail($"Gateway:Cluster:ConnectionString is not a valid PostgreSQL connection string: {error.Message}");
            }
        }

        return ValidateOptionsResult.Success;
    }
}
