using System.Reflection;
using Gateway.Ingest.Mqtt;
using Gateway.Partitions;
using Gateway.Silo.Admin;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Operations;

public sealed class LogEventIdTests
{
    [Fact]
    public void Every_log_event_of_the_gateway_has_its_own_event_id()
    {
        // Operators alert and filter on event ids; two events sharing one would page for the wrong thing.
        var assemblies = new[] { typeof(PartitionGrain).Assembly, typeof(MqttIngestService).Assembly, typeof(AdminToken).Assembly };
        var events = assemblies
            .SelectMany(assembly => assembly.GetTypes())
            .SelectMany(type => type.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(method => (Method: $"{method.DeclaringType!.FullName}.{method.Name}", Attribute: method.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(entry => entry.Attribute is not null)
            .ToList();

        Assert.True(events.Count > 30, $"found only {events.Count} log events; the scan is looking in the wrong place");
        var shared = events.GroupBy(entry => entry.Attribute!.EventId)
            .Where(group => group.Count() > 1)
            .Select(group => $"{group.Key}: {string.Join(", ", group.Select(entry => entry.Method))}")
            .ToList();
        Assert.Empty(shared);
    }
}
