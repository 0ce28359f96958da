namespace Gateway;

/// <summary>
/// References to grains of one interface by string key, made without Orleans' per-call interface lookup:
/// <c>GetGrain&lt;T&gt;(string)</c> resolves the interface through attribute reflection and type-name formatting on every
/// call, and the ingest and wake-up paths make one such call per message or commit. The lookup is done once, on first use
/// (the silo's type map is complete by then), and kept.
/// </summary>
public sealed class GrainReferences<TGrain>(IGrainFactory grains) where TGrain : IGrainWithStringKey
{
    private Types? _types;

    /// <summary>The reference of the grain with <paramref name="key"/>; the same grain <c>GetGrain&lt;TGrain&gt;(key)</c> names.</summary>
    public TGrain Get(string key)
    {
        var types = _types ??= Types.Of(grains);
        return (TGrain)grains.GetGrain(GrainId.Create(types.Grain, key), types.Interface);
    }

    private sealed record Types(GrainType Grain, GrainInterfaceType Interface)
    {
        public static Types Of(IGrainFactory grains)
        {
            var sample = (GrainReference)(object)grains.GetGrain<TGrain>("sample");
            return new Types(sample.GrainId.Type, sample.InterfaceType);
        }
    }
}
