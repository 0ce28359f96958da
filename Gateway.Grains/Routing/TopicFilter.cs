namespace Gateway.Routing;

/// <summary>
/// An MQTT topic filter: levels split by '/', '+' matches one level, a trailing '#' matches any number
/// of levels (including none), anything else matches itself.
/// </summary>
public sealed class TopicFilter
{
    private readonly string[] _levels;

    /// <summary>Parses <paramref name="filter"/>; throws <see cref="FormatException"/> when it breaks the MQTT rules.</summary>
    public TopicFilter(string filter)
    {
        ArgumentException.ThrowIfNullOrEmpty(filter);
        _levels = filter.Split('/');
        for (var i = 0; i < _levels.Length; i++)
        {
            var level = _levels[i];
            var isLast = i == _levels.Length - 1;
            if ((level.Contains('#', StringComparison.Ordinal) && (level != "#" || !isLast))
                || (level.Contains('+', StringComparison.Ordinal) && level != "+"))
            {
                throw new FormatException($"'{filter}' is not an MQTT topic filter: '+' must be a whole level and '#' the whole last level.");
            }
        }

        Filter = filter;
    }

    /// <summary>Why each of <paramref name="filters"/> that breaks the MQTT rules does, for an options validator.</summary>
    public static IEnumerable<string> Problems(IEnumerable<string> filters)
    {
        ArgumentNullException.ThrowIfNull(filters);
        foreach (var filter in filters)
        {
            string? problem = null;
            try
            {
                _ = new TopicFilter(filter);
            }
            catch (Exception error) when (error is FormatException or ArgumentException)
            {
                problem = error.Message;
            }

            if (problem is not null)
            {
                yield return problem;
            }
        }
    }

    /// <summary>The filter as written.</summary>
    public string Filter { get; }

    /// <summary>True when <paramref name="topic"/> matches the filter.</summary>
    public bool Matches(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        var remaining = topic.AsSpan();
        for (var i = 0; i < _levels.Length; i++)
        {
            if (_levels[i] == "#")
            {
                return true;
            }

            var slash = remaining.IndexOf('/');
            var level = slash < 0 ? remaining : remaining[..slash];
            if (_levels[i] != "+" && !level.SequenceEqual(_levels[i]))
            {
                return false;
            }

            if (slash < 0)
            {
                // The topic ends here; it matches if the filter does too, or continues only with '#'.
                return i == _levels.Length - 1 || (i == _levels.Length - 2 && _levels[^1] == "#");
            }

            remaining = remaining[(slash + 1)..];
        }

        return false;
    }
}
