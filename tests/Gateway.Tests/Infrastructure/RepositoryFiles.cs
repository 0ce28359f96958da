namespace Gateway.Tests.Infrastructure;

/// <summary>Files of this repository (scripts, deploy files, docs), found from the test binaries upwards.</summary>
public static class RepositoryFiles
{
    /// <summary>The folder holding <c>Orleans.Gateway.sln</c>.</summary>
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Orleans.Gateway.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No Orleans.Gateway.sln above {AppContext.BaseDirectory}.");
    }
}
