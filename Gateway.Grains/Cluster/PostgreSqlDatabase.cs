using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gateway.Cluster;

/// <summary>The cluster's shared PostgreSQL database: how to reach it, and one pooled data source for the gateway's own queries.</summary>
public sealed partial class PostgreSqlDatabase : IDisposable
{
    /// <summary>Describes the database from its connection string (<see cref="GatewayClusterOptions.ConnectionString"/>).</summary>
    public PostgreSqlDatabase(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ConnectionString = connectionString;
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        Endpoint = $"{builder.Host}:{builder.Port}/{builder.Database}";
        DataSource = NpgsqlDataSource.Create(connectionString);
    }

    /// <summary>The connection string Orleans' ADO.NET providers and the WAL share.</summary>
    public string ConnectionString { get; }

    /// <summary>Host, port and database name: safe to log (no credentials).</summary>
    public string Endpoint { get; }

    /// <summary>The pool the WAL's connections come from.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>
    /// Returns once the database accepts a connection; logs that it waits while it does not, and throws
    /// <see cref="DatabaseUnreachableException"/> after <paramref name="timeout"/>.
    /// </summary>
    public async Task WaitUntilReachableAsync(TimeSpan timeout, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var deadline = DateTime.UtcNow + timeout;
        var delay = TimeSpan.FromMilliseconds(250);
        var attempt = 0;
        while (true)
        {
            attempt++;
            try
            {
                await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                if (attempt > 1)
                {
                    LogReachable(logger, Endpoint, attempt);
                }

                return;
            }
            catch (Exception error) when (error is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                if (DateTime.UtcNow + delay > deadline)
                {
                    throw new DatabaseUnreachableException(
                        $"The cluster database {Endpoint} did not answer within {timeout} (Gateway:Cluster:DatabaseWaitTimeout): {error.Message}", error);
                }

                LogWaiting(logger, Endpoint, error.Message, deadline - DateTime.UtcNow);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5_000));
            }
        }
    }

    /// <summary>Closes the pool.</summary>
    public void Dispose() => DataSource.Dispose();

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Waiting for the cluster database {Endpoint}: {Reason}; giving up in {Remaining}")]
    private static partial void LogWaiting(ILogger logger, string endpoint, string reason, TimeSpan remaining);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "The cluster database {Endpoint} answered after {Attempts} attempts")]
    private static partial void LogReachable(ILogger logger, string endpoint, int attempts);
}

/// <summary>The cluster database did not answer within the start-up wait.</summary>
public sealed class DatabaseUnreachableException(string message, Exception inner) : Exception(message, inner);
