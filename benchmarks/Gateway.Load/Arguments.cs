using System.Globalization;

namespace Gateway.Load;

/// <summary>
/// <c>--name value</c> pairs and bare <c>--flag</c>s of one subcommand. Every option read is marked used, so
/// a misspelt option is reported instead of silently ignored.
/// </summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    private Arguments()
    {
    }

    /// <summary>Splits <paramref name="args"/>; an option followed by another option (or nothing) is a flag.</summary>
    public static Arguments Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var arguments = new Arguments();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Expected an option, got '{name}'.");
            }

            var value = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "";
            if (!arguments._values.TryGetValue(name, out var values))
            {
                arguments._values[name] = values = [];
            }

            values.Add(value);
        }

        return arguments;
    }

    public string? Text(string name) => All(name).LastOrDefault();

    public string RequiredText(string name) => Text(name) ?? throw new ArgumentException($"{name} is required.");

    /// <summary>Every value given for a repeatable option, in order.</summary>
    public IReadOnlyList<string> All(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var values) ? values : [];
    }

    public bool Flag(string name) => Text(name) is not null;

    public double Number(string name, double fallback) =>
        Text(name) is { } text
            ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0
                ? value
                : throw new ArgumentException($"{name} must be a non-negative number, not '{text}'.")
            : fallback;

    public int Integer(string name, int fallback, int minimum = 0) =>
        Text(name) is { } text
            ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= minimum
                ? value
                : throw new ArgumentException($"{name} must be an integer of at least {minimum}, not '{text}'.")
            : fallback;

    /// <summary>Throws when an option was given that no one asked for.</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Where(name => !_used.Contains(name)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown)}.");
        }
    }
}
