using System.Globalization;

namespace Gateway.Partitions;

/// <summary>The string key of a partition grain: <c>{sink}/{partition}</c>.</summary>
[GenerateSerializer, Immutable, Alias("Gateway.PartitionKey")]
public readonly record struct PartitionKey([property: Id(0)] string Sink, [property: Id(1)] int Partition)
{
    /// <summary>The grain key.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Sink}/{Partition}");

    /// <summary>Reads a key written by <see cref="ToString"/>.</summary>
    public static PartitionKey Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slash = key.LastIndexOf('/');
        if (slash <= 0 || !int.TryParse(key.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var partition))
        {
            throw new FormatException($"'{key}' is not a partition key of the form sink/number.");
        }

        return new PartitionKey(key[..slash], partition);
    }
}
