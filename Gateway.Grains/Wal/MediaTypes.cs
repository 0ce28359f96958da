namespace Gateway.Wal;

/// <summary>The media types the gateway stores messages under.</summary>
public static class MediaTypes
{
    /// <summary>A JSON payload, validated at ingest.</summary>
    public const string Json = "application/json";

    /// <summary>Anything the gateway does not interpret.</summary>
    public const string OctetStream = "application/octet-stream";
}
