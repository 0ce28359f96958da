using System.Collections;
using System.Globalization;
using System.Reflection;
using Gateway.Ingest.Http;
using Gateway.Lanes;
using Gateway.Silo.Hosting;
using Gateway.Sinks;

namespace Gateway.Tests.Deploy;

/// <summary>One configuration key as the options classes define it: what docs/configuration.md must say.</summary>
public sealed record ConfigurationKey(string Key, string Type, string Default);

/// <summary>
/// Every configuration key the gateway binds, read by reflection from its options classes: each public type
/// with a <c>Section</c> constant in the gateway's assemblies, plus the sink and lane lists (bound under <c>Gateway</c>).
/// A new options class or property is found without anyone listing it here.
/// </summary>
public static class ConfigurationReference
{
    private static readonly Assembly[] GatewayAssemblies =
        [typeof(GatewayOptions).Assembly, typeof(HttpIngestOptions).Assembly, typeof(OperationsOptions).Assembly];

    public static IReadOnlyList<ConfigurationKey> Keys()
    {
        var keys = new List<ConfigurationKey>();
        var sections = GatewayAssemblies
            .SelectMany(assembly => assembly.GetTypes())
            .Where(type => type.IsClass && type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true })
            .Select(type => (Type: type, Section: (string)type.GetField("Section")!.GetRawConstantValue()!))
            .Append((typeof(SinkListOptions), GatewayOptions.Section))
            .Append((typeof(LaneListOptions), GatewayOptions.Section))
            .OrderBy(pair => pair.Section, StringComparer.Ordinal);
        foreach (var (type, section) in sections)
        {
            AddProperties(keys, type, section);
        }

        return keys;
    }

    private static void AddProperties(List<ConfigurationKey> keys, Type type, string prefix)
    {
        var defaults = Activator.CreateInstance(type);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
        {
            var key = $"{prefix}:{property.Name}";
            var elementType = ListElementType(property.PropertyType);
            if (elementType is not null && elementType != typeof(string))
            {
                // A list of objects (the sinks): one row per member, with N for the index.
                AddProperties(keys, elementType, key + ":N");
                continue;
            }

            keys.Add(new ConfigurationKey(key, TypeName(property.PropertyType), Format(property.GetValue(defaults))));
        }
    }

    private static Type? ListElementType(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) ? type.GetGenericArguments()[0] : null;

    private static string TypeName(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying.IsEnum)
        {
            return string.Join(" \\| ", Enum.GetNames(underlying));
        }

        return underlying switch
        {
            _ when underlying == typeof(string) => "string",
            _ when underlying == typeof(bool) => "bool",
            _ when underlying == typeof(int) => "int",
            _ when underlying == typeof(long) => "long",
            _ when underlying == typeof(double) => "double",
            _ when underlying == typeof(TimeSpan) => "duration",
            _ when underlying == typeof(Uri) => "URL",
            _ when ListElementType(underlying) == typeof(string) => "list of string",
            _ => underlying.Name,
        };
    }

    private static string Format(object? value) => value switch
    {
        null => "none",
        string text => text.Length == 0 ? "\"\"" : text,
        bool flag => flag ? "true" : "false",
        TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        IList { Count: 0 } => "[]",
        IList list => string.Join(", ", list.Cast<object>()),
        _ => value.ToString() ?? "none",
    };
}
