using System.Globalization;
using System.Reflection;

namespace Gateway.Storage;

/// <summary>
/// The numbered SQL scripts a component embeds as <c>{prefix}{component}.{NNNN}-{name}.sql</c>, in order;
/// both schema migrators (SQLite and PostgreSQL) read them.
/// </summary>
public static class EmbeddedSqlScripts
{
    /// <summary>The scripts of <paramref name="component"/> in <paramref name="assembly"/>, by version.</summary>
    public static List<(int Version, string Resource)> Find(Assembly assembly, string prefix, string component)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var start = prefix + component + ".";
        var scripts = new List<(int, string)>();
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(start, StringComparison.Ordinal) || !name.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            var file = name[start.Length..];
            var dash = file.IndexOf('-', StringComparison.Ordinal);
            if (dash <= 0 || !int.TryParse(file.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                throw new InvalidOperationException($"SQL script '{name}' must be named NNNN-description.sql.");
            }

            scripts.Add((version, name));
        }

        if (scripts.Count == 0)
        {
            throw new InvalidOperationException($"No SQL scripts for component '{component}' in {assembly.GetName().Name}.");
        }

        scripts.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return scripts;
    }

    /// <summary>The text of one embedded script.</summary>
    public static string Read(Assembly assembly, string resource)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded SQL script '{resource}' is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
