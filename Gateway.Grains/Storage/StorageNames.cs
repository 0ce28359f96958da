namespace Gateway.Storage;

/// <summary>Names of the Orleans storage providers the grains use.</summary>
public static class StorageNames
{
    /// <summary>Grain state in the gateway's database.</summary>
    public const string Gateway = "gateway";
}
