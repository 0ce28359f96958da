using Gateway.Devices;
using Gateway.Lanes;
using Gateway.Wal;

namespace Gateway.Silo.Admin;

/// <summary><c>/admin/v1/lanes</c>: the priority lanes, what each holds, and whether ingest takes it now.</summary>
internal static class LaneAdminEndpoints
{
    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapGroup("/lanes").WithTags("Lanes")
            .MapGet("", ListAsync)
            .WithSummary("The lanes by priority: settings, pending records and bytes, oldest pending age, whether ingest refuses the lane now, refusals and expiries since this silo started.")
            .Produces<IReadOnlyList<LaneView>>();
    }

    private static async Task<IResult> ListAsync(LaneCatalog lanes, IWalAdmin wal, IngestPressure pressure, LaneActivity activity, TimeProvider time)
    {
        var backlogs = (await wal.GetLaneBacklogsAsync()).ToDictionary(backlog => backlog.Lane);
        var now = time.GetUtcNow();
        var views = new List<LaneView>();
        foreach (var lane in lanes.Lanes)
        {
            var backlog = backlogs.GetValueOrDefault(lane.Priority);
            var (refusal, detail) = pressure.Check(lane);
            views.Add(new LaneView(
                lane.Name, lane.Priority, lane.Share, lane.TimeToLive?.TotalSeconds,
                backlog?.Records ?? 0, backlog?.Bytes ?? 0, backlog?.OldestPendingReceivedAt,
                backlog?.OldestPendingReceivedAt is { } oldest ? Math.Max(0, (now - oldest).TotalSeconds) : null,
                refusal == RefusalReason.None ? null : detail,
                activity.RefusedOf(lane.Name), activity.ExpiredOf(lane.Name)));
        }

        return Results.Ok(views);
    }
}

/// <summary>One lane: its settings, what the WAL holds for it, and how ingest treats it.</summary>
internal sealed record LaneView(
    string Name,
    int Priority,
    double Share,
    double? TimeToLiveSeconds,
    long PendingRecords,
    long PendingBytes,
    DateTimeOffset? OldestPendingReceivedAt,
    double? OldestPendingAgeSeconds,
    string? Refused,
    long RefusedSinceStart,
    long ExpiredSinceStart);
