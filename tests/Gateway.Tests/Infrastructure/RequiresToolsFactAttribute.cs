namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A test that needs programs from Debian packages (mosquitto, promtool, chromium, ...). Where one is
/// missing it is skipped with the reason locally, and runs (so fails) in CI, where <c>.ci/run</c> installs them.
/// </summary>
public sealed class RequiresToolsFactAttribute : FactAttribute
{
    public RequiresToolsFactAttribute(params string[] tools)
    {
        var missing = tools.Where(tool => !ExternalTools.IsInstalled(tool)).ToList();
        if (missing.Count > 0 && !ExternalTools.InContinuousIntegration)
        {
            Skip = $"Needs {string.Join(", ", missing)} on PATH (installed by .ci/run).";
        }
    }
}

/// <summary>Finds programs on PATH.</summary>
public static class ExternalTools
{
    /// <summary>True under CI (<c>CI=true</c>), where a missing tool must fail a test instead of skipping it.</summary>
    public static bool InContinuousIntegration =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static bool IsInstalled(string tool) => Find(tool) is not null;

    /// <summary>The full path of <paramref name="tool"/> on PATH (or /usr/sbin, where Debian puts daemons), or null.</summary>
    public static string? Find(string tool)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "") + ":/usr/sbin:/sbin";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, tool))
            .FirstOrDefault(File.Exists);
    }
}

/// <summary>The theory form of <see cref="RequiresToolsFactAttribute"/>.</summary>
public sealed class RequiresToolsTheoryAttribute : TheoryAttribute
{
    public RequiresToolsTheoryAttribute(params string[] tools)
    {
        var missing = tools.Where(tool => !ExternalTools.IsInstalled(tool)).ToList();
        if (missing.Count > 0 && !ExternalTools.InContinuousIntegration)
        {
            Skip = $"Needs {string.Join(", ", missing)} on PATH (installed by .ci/run).";
        }
    }
}
