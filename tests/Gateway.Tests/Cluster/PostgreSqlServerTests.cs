using Gateway.Tests.Infrastructure;
using Npgsql;

namespace Gateway.Tests.Cluster;

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlServerTests(PostgreSqlServer server)
{
    [RequiresPostgreSqlFact]
    public async Task Each_test_database_is_a_separate_empty_database_on_the_loopback_server()
    {
        var first = await server.CreateDatabaseAsync("isolation");
        var second = await server.CreateDatabaseAsync("isolation");
        Assert.NotEqual(first, second);

        await using (var connection = new NpgsqlConnection(first))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE TABLE only_here (id int)", connection);
            await create.ExecuteNonQueryAsync();
        }

        await using var other = new NpgsqlConnection(second);
        await other.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'", other);
        Assert.Equal(0L, await count.ExecuteScalarAsync());
        Assert.Equal("127.0.0.1", other.Host);
    }
}
