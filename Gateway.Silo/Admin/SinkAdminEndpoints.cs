using System.Globalization;
using Gateway.Partitions;
using Gateway.Sinks;
using Gateway.Wal;
using Microsoft.Extensions.Options;

namespace Gateway.Silo.Admin;

/// <summary><c>/admin/v1/sinks</c>: sinks, their partitions' depth and delivery state, pause and resume.</summary>
internal static class SinkAdminEndpoints
{
    public static void Map(RouteGroupBuilder admin)
    {
        var sinks = admin.MapGroup("/sinks").WithTags("Sinks");
        sinks.MapGet("", ListAsync).WithSummary("The configured sinks with their pause and circuit state, paged by name.").Produces<Page<SinkView>>();
        sinks.MapGet("/{sink}/partitions", PartitionsAsync)
            .WithSummary("Each partition of a sink: depth by state, oldest pending age, attempts, next attempt, circuit, paged by number.")
            .Produces<Page<PartitionView>>();
        sinks.MapPost("/{sink}/pause", (string sink, SinkCatalog catalog, IGrainFactory grains) => SetPausedAsync(sink, true, catalog, grains))
            .WithSummary("Pauses a sink: its partitions lease nothing, so nothing is sent and nothing is lost.").Produces<SinkView>();
        sinks.MapPost("/{sink}/resume", (string sink, SinkCatalog catalog, IGrainFactory grains) => SetPausedAsync(sink, false, catalog, grains))
            .WithSummary("Resumes a paused sink: its partitions send what waited.").Produces<SinkView>();
    }

    private static async Task<IResult> ListAsync(string? after, string? limit, SinkCatalog catalog, IGrainFactory grains)
    {
        if (!AdminInput.TryLimit(limit, out var size, out var error))
        {
            return error!;
        }

        var items = new List<SinkView>();
        foreach (var name in catalog.Names.Where(name => after is null || string.CompareOrdinal(name, after) > 0).Order(StringComparer.Ordinal).Take(size))
        {
            items.Add(await ViewAsync(name, catalog, grains));
        }

        return Results.Ok(new Page<SinkView>(items, items.Count == size ? items[^1].Name : null));
    }

    private static async Task<IResult> PartitionsAsync(
        string sink, string? after, string? limit, SinkCatalog catalog, IGrainFactory grains, IWalAdmin wal,
        IOptions<DeliveryOptions> delivery, TimeProvider time)
    {
        if (catalog.Find(sink) is null)
        {
            return UnknownSink(sink);
        }

        if (!AdminInput.TryCursor(after, "after", out var cursor, out var error) || !AdminInput.TryLimit(limit, out var size, out error))
        {
            return error!;
        }

        var first = after is null ? 0 : (int)Math.Min(cursor + 1, int.MaxValue);
        var last = (int)Math.Min((long)first + size, delivery.Value.PartitionCount);
        var depths = (await wal.GetPartitionDepthsAsync(sink)).ToDictionary(depth => depth.Partition);
        var now = time.GetUtcNow();
        var items = new List<PartitionView>();
        for (var partition = first; partition < last; partition++)
        {
            var status = await grains.GetGrain<IPartitionGrain>(new PartitionKey(sink, partition).ToString()).GetStatusAsync();
            var depth = depths.GetValueOrDefault(partition) ?? new PartitionDepth(partition, 0, 0, 0, null, 0, null);
            items.Add(new PartitionView(
                partition, depth.Enqueued, depth.InFlight, depth.Dead,
                depth.OldestPendingReceivedAt,
                depth.OldestPendingReceivedAt is { } oldest ? Math.Max(0, (now - oldest).TotalSeconds) : null,
                depth.MaxAttempts, status.NextAttemptAt ?? depth.NextAttemptAt, status.Circuit, status.Paused,
                status.ConsecutiveFailures, status.LastError, status.Delivered, status.DeadLettered));
        }

        var next = last < delivery.Value.PartitionCount && items.Count > 0 ? (last - 1).ToString(CultureInfo.InvariantCulture) : null;
        return Results.Ok(new Page<PartitionView>(items, next));
    }

    private static async Task<IResult> SetPausedAsync(string sink, bool paused, SinkCatalog catalog, IGrainFactory grains)
    {
        if (catalog.Find(sink) is null)
        {
            return UnknownSink(sink);
        }

        var control = grains.GetGrain<ISinkControlGrain>(sink);
        await (paused ? control.PauseAsync() : control.ResumeAsync());
        return Results.Ok(await ViewAsync(sink, catalog, grains));
    }

    private static async Task<SinkView> ViewAsync(string sink, SinkCatalog catalog, IGrainFactory grains) =>
        new(sink, await grains.GetGrain<ISinkControlGrain>(sink).IsPausedAsync(), catalog.CircuitOf(sink).State.ToString());

    private static IResult UnknownSink(string sink) =>
        AdminProblems.NotFound("unknown-sink", $"No sink named '{sink}' is configured.");
}

/// <summary>A sink: whether an operator paused it, and its circuit breaker on this silo.</summary>
internal sealed record SinkView(string Name, bool Paused, string Circuit);

/// <summary>One partition of a sink: what the WAL holds for it and what its grain is doing.</summary>
internal sealed record PartitionView(
    int Partition,
    long Enqueued,
    long InFlight,
    long Dead,
    DateTimeOffset? OldestPendingReceivedAt,
    double? OldestPendingAgeSeconds,
    int MaxAttempts,
    DateTimeOffset? NextAttemptAt,
    string Circuit,
    bool Paused,
    int ConsecutiveFailures,
    string? LastError,
    long DeliveredSinceActivation,
    long DeadLetteredSinceActivation);
