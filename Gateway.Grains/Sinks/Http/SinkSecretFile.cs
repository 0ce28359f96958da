namespace Gateway.Sinks;

/// <summary>
/// A secret the http sink sends with every request, kept in a file (a mounted secret, or one an agent renews): read at
/// start and again whenever the file's size or write time changes, so a renewed token is used from the next batch.
/// The value is never logged or put in an error.
/// </summary>
internal sealed class SinkSecretFile(string path)
{
    private readonly Lock _lock = new();
    private (DateTime WrittenAt, long Length) _version;
    private string _secret = "";

    /// <summary>The file's content now, trimmed.</summary>
    public string Current
    {
        get
        {
            var file = new FileInfo(path);
            var version = (file.LastWriteTimeUtc, file.Exists ? file.Length : -1);
            lock (_lock)
            {
                if (version != _version)
                {
                    _secret = file.Exists ? File.ReadAllText(path).Trim() : "";
                    _version = version;
                }

                return _secret;
            }
        }
    }
}
