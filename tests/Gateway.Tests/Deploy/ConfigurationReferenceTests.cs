using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Deploy;

/// <summary>docs/configuration.md against the options classes: every key there, with its real type and default.</summary>
public sealed class ConfigurationReferenceTests
{
    private static readonly string ReferencePath = RepositoryFiles.PathOf("docs", "configuration.md");

    [Fact]
    public void Every_option_is_in_the_configuration_reference_with_its_type_and_default()
    {
        var documented = DocumentedRows();
        var problems = new List<string>();
        foreach (var key in ConfigurationReference.Keys())
        {
            var expected = $"| `{key.Key}` | {key.Type} | `{key.Default}` |";
            if (!documented.TryGetValue(key.Key, out var row))
            {
                problems.Add($"missing: {expected} (description) |");
            }
            else if (!row.StartsWith(expected, StringComparison.Ordinal) || row.Length <= expected.Length + 3)
            {
                problems.Add($"differs: {row}\n   expected: {expected} (description) |");
            }
        }

        Assert.True(problems.Count == 0, $"docs/configuration.md is out of date with the options classes:\n{string.Join('\n', problems)}");
    }

    [Fact]
    public void The_configuration_reference_names_no_key_the_gateway_does_not_read()
    {
        var known = ConfigurationReference.Keys().Select(key => key.Key).ToHashSet(StringComparer.Ordinal);

        var unknown = DocumentedRows().Keys.Where(key => !known.Contains(key)).ToList();

        Assert.True(unknown.Count == 0, $"docs/configuration.md documents keys no options class has: {string.Join(", ", unknown)}");
    }

    // Table rows of the reference start with "| `Gateway:...` |".
    private static Dictionary<string, string> DocumentedRows() =>
        File.ReadLines(ReferencePath)
            .Where(line => line.StartsWith("| `Gateway:", StringComparison.Ordinal))
            .ToDictionary(line => line[3..line.IndexOf('`', 3)], line => line, StringComparer.Ordinal);
}
