using System.Text.Json;
using Gateway.DeadLetters;
using Gateway.Sinks;

namespace Gateway.Silo.Admin;

/// <summary><c>/admin/v1/dead-letters</c>: list with filters, replay and purge by ids, sink, device or time range.</summary>
internal static class DeadLetterAdminEndpoints
{
    private const int MaxMessageIds = 1000;

    public static void Map(RouteGroupBuilder admin)
    {
        var dead = admin.MapGroup("/dead-letters").WithTags("Dead letters");
        dead.MapGet("", ListAsync)
            .WithSummary("Dead letters, oldest first, filtered by sink, device and received time, paged by delivery id.")
            .Produces<Page<DeadLetter>>();
        dead.MapPost("/replay", (HttpRequest request, SinkCatalog sinks, IGrainFactory grains) =>
                ChangeAsync(request, sinks, filter => grains.GetGrain<IDeadLettersGrain>(0).ReplayAsync(filter), count => new { replayed = count }))
            .WithSummary("Returns the selected dead letters to their partitions with a fresh attempt count; answers how many.")
            .Accepts<DeadLetterSelection>("application/json");
        dead.MapPost("/purge", (HttpRequest request, SinkCatalog sinks, IGrainFactory grains) =>
                ChangeAsync(request, sinks, filter => grains.GetGrain<IDeadLettersGrain>(0).PurgeAsync(filter), count => new { purged = count }))
            .WithSummary("Deletes the selected dead letters; answers how many.")
            .Accepts<DeadLetterSelection>("application/json");
    }

    private static async Task<IResult> ListAsync(
        string? sink, string? deviceId, string? from, string? before, string? after, string? limit, SinkCatalog sinks, IGrainFactory grains)
    {
        if ((sink is not null && !TrySink(sink, sinks, out var error))
            || (deviceId is not null && !AdminInput.TryDeviceId(deviceId, "deviceId", out error))
            || !AdminInput.TryRange(from, before, "from", "before", out var start, out var end, out error)
            || !AdminInput.TryCursor(after, "after", out var cursor, out error)
            || !AdminInput.TryLimit(limit, out var size, out error))
        {
            return error!;
        }

        var items = await grains.GetGrain<IDeadLettersGrain>(0).ListAsync(new DeadLetterFilter(sink, deviceId, start, end), cursor, size);
        return Results.Ok(new Page<DeadLetter>(items, items.Count == size ? items[^1].DeliveryId.ToString(System.Globalization.CultureInfo.InvariantCulture) : null));
    }

    private static async Task<IResult> ChangeAsync(HttpRequest request, SinkCatalog sinks, Func<DeadLetterFilter, Task<int>> change, Func<int, object> answer)
    {
        DeadLetterSelection? selection;
        try
        {
            selection = await request.ReadFromJsonAsync<DeadLetterSelection>();
        }
        catch (JsonException error)
        {
            var field = error.Path is { Length: > 2 } path ? path[2..] : "body";
            return AdminProblems.Invalid(field, $"The body is not a valid selection at '{error.Path}': {error.Message}");
        }
        catch (InvalidOperationException)
        {
            return AdminProblems.Invalid("body", "Send the selection as a JSON object with Content-Type: application/json.");
        }

        if (selection is null)
        {
            return AdminProblems.Invalid("body", "Send the selection as a JSON object.");
        }

        if (!TryFilter(selection, sinks, out var filter, out var invalid))
        {
            return invalid!;
        }

        return Results.Ok(answer(await change(filter!)));
    }

    private static bool TryFilter(DeadLetterSelection selection, SinkCatalog sinks, out DeadLetterFilter? filter, out IResult? error)
    {
        filter = null;
        if ((selection.Sink is not null && !TrySink(selection.Sink, sinks, out error))
            || (selection.DeviceId is not null && !AdminInput.TryDeviceId(selection.DeviceId, "deviceId", out error)))
        {
            return false;
        }

        if (selection.From is { } from && selection.Before is { } before && from >= before)
        {
            error = AdminProblems.Invalid("before", "before must be later than from.");
            return false;
        }

        if (selection.MessageIds is { } ids)
        {
            if (ids.Count is 0 or > MaxMessageIds)
            {
                error = AdminProblems.Invalid("messageIds", $"messageIds must hold 1 to {MaxMessageIds} ids.");
                return false;
            }

            for (var i = 0; i < ids.Count; i++)
            {
                if (!AdminInput.TryMessageId(ids[i], $"messageIds[{i}]", out error))
                {
                    return false;
                }
            }
        }

        var selective = selection.Sink is not null || selection.DeviceId is not null || selection.From is not null
            || selection.Before is not null || selection.MessageIds is not null;
        if (selective == selection.All)
        {
            // Every dead letter at once only when asked for in so many words; a filter and "all" together are ambiguous.
            error = AdminProblems.Invalid("all", "Select by messageIds, sink, deviceId, from or before, or send \"all\": true (alone) for every dead letter.");
            return false;
        }

        filter = new DeadLetterFilter(selection.Sink, selection.DeviceId, selection.From, selection.Before, selection.MessageIds);
        error = null;
        return true;
    }

    private static bool TrySink(string sink, SinkCatalog sinks, out IResult? error)
    {
        error = sinks.Find(sink) is null ? AdminProblems.Invalid("sink", $"No sink named '{sink}' is configured.") : null;
        return error is null;
    }
}

/// <summary>Which dead letters a replay or purge takes: the fields given all apply; <c>all</c> alone takes every one.</summary>
internal sealed record DeadLetterSelection(
    IReadOnlyList<string>? MessageIds = null,
    string? Sink = null,
    string? DeviceId = null,
    DateTimeOffset? From = null,
    DateTimeOffset? Before = null,
    bool All = false);
