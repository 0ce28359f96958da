using Gateway.Devices;
using Gateway.Wal;

namespace Gateway.Silo.Admin;

/// <summary><c>/admin/v1/devices</c>: the device directory, one device's grain state, credentials, disable/enable.</summary>
internal static class DeviceAdminEndpoints
{
    public static void Map(RouteGroupBuilder admin)
    {
        var devices = admin.MapGroup("/devices").WithTags("Devices");
        devices.MapGet("", ListAsync)
            .WithSummary("Devices the gateway knows, by id, paged; optionally only those seen since a time.")
            .Produces<Page<DeviceEntry>>();
        devices.MapGet("/{deviceId}", GetAsync).WithSummary("One device's grain state and WAL counts.").Produces<DeviceView>();
        devices.MapPost("/{deviceId}/credentials", ProvisionAsync)
            .WithSummary("Creates the device's secret (MQTT password, HTTP Basic password); the answer is the only time it is shown.").Produces<DeviceSecret>(StatusCodes.Status201Created);
        devices.MapPost("/{deviceId}/credentials/rotate", RotateAsync)
            .WithSummary("Replaces the device's secret; the old one stops working. The answer is the only time it is shown.").Produces<DeviceSecret>();
        devices.MapDelete("/{deviceId}/credentials", RevokeAsync).WithSummary("Removes the device's secret.").Produces(StatusCodes.Status204NoContent);
        devices.MapPost("/{deviceId}/disable", (string deviceId, IGrainFactory grains) => SetDisabledAsync(deviceId, true, grains))
            .WithSummary("Disables the device: ingest refuses what it sends (HTTP 403 device-disabled, MQTT NotAuthorized).").Produces<DeviceView>();
        devices.MapPost("/{deviceId}/enable", (string deviceId, IGrainFactory grains) => SetDisabledAsync(deviceId, false, grains))
            .WithSummary("Enables a disabled device.").Produces<DeviceView>();
    }

    private static async Task<IResult> ListAsync(string? after, string? limit, string? seenSince, IWalAdmin wal)
    {
        if ((after is not null && !AdminInput.TryDeviceId(after, "after", out var error))
            || !AdminInput.TryLimit(limit, out var size, out error)
            || !AdminInput.TryTime(seenSince, "seenSince", out var since, out error))
        {
            return error!;
        }

        var entries = await wal.ListDevicesAsync(after, since, size);
        var items = entries.Select(entry => new DeviceEntry(entry.DeviceId, entry.FirstSeen, entry.LastSeen)).ToList();
        return Results.Ok(new Page<DeviceEntry>(items, items.Count == size ? items[^1].DeviceId : null));
    }

    private static async Task<IResult> GetAsync(string deviceId, IGrainFactory grains)
    {
        if (!AdminInput.TryDeviceId(deviceId, "deviceId", out var error))
        {
            return error!;
        }

        var status = await grains.GetGrain<IDeviceGrain>(deviceId).GetStatusAsync();
        var provisioned = await grains.GetGrain<IDeviceCredentialsGrain>(deviceId).IsProvisionedAsync();
        if (status.FirstSeen is null && status.RefusedCount == 0 && !status.Disabled && !provisioned)
        {
            return AdminProblems.NotFound("unknown-device", $"The gateway has never heard from device '{deviceId}' nor holds credentials for it.");
        }

        return Results.Ok(DeviceView.From(status, provisioned));
    }

    private static async Task<IResult> ProvisionAsync(string deviceId, IGrainFactory grains, IWalAdmin wal)
    {
        if (!AdminInput.TryDeviceId(deviceId, "deviceId", out var error))
        {
            return error!;
        }

        var secret = await grains.GetGrain<IDeviceCredentialsGrain>(deviceId).ProvisionAsync();
        if (secret is null)
        {
            return AdminProblems.Conflict("credentials-exist", $"Device '{deviceId}' already has a secret; rotate it to get a new one.");
        }

        await wal.RecordDeviceAsync(new DeviceDirectoryEntry(deviceId, null, null));
        return Results.Created($"/admin/v1/devices/{deviceId}", new DeviceSecret(deviceId, secret));
    }

    private static async Task<IResult> RotateAsync(string deviceId, IGrainFactory grains, IWalAdmin wal)
    {
        if (!AdminInput.TryDeviceId(deviceId, "deviceId", out var error))
        {
            return error!;
        }

        var secret = await grains.GetGrain<IDeviceCredentialsGrain>(deviceId).RotateAsync();
        await wal.RecordDeviceAsync(new DeviceDirectoryEntry(deviceId, null, null));
        return Results.Ok(new DeviceSecret(deviceId, secret));
    }

    private static async Task<IResult> RevokeAsync(string deviceId, IGrainFactory grains)
    {
        if (!AdminInput.TryDeviceId(deviceId, "deviceId", out var error))
        {
            return error!;
        }

        await grains.GetGrain<IDeviceCredentialsGrain>(deviceId).RevokeAsync();
        return Results.NoContent();
    }

    private static async Task<IResult> SetDisabledAsync(string deviceId, bool disabled, IGrainFactory grains)
    {
        if (!AdminInput.TryDeviceId(deviceId, "deviceId", out var error))
        {
            return error!;
        }

        var status = await grains.GetGrain<IDeviceGrain>(deviceId).SetDisabledAsync(disabled);
        var provisioned = await grains.GetGrain<IDeviceCredentialsGrain>(deviceId).IsProvisionedAsync();
        return Results.Ok(DeviceView.From(status, provisioned));
    }
}

/// <summary>A known device: when it was first and last accepted from (null for one that never sent anything).</summary>
internal sealed record DeviceEntry(string DeviceId, DateTimeOffset? FirstSeen, DateTimeOffset? LastSeen);

/// <summary>A newly created or rotated secret: shown in this answer only, never stored in clear.</summary>
internal sealed record DeviceSecret(string DeviceId, string Secret);

/// <summary>One device as its grain and the WAL see it.</summary>
internal sealed record DeviceView(
    string DeviceId,
    DateTimeOffset? FirstSeen,
    DateTimeOffset? LastSeen,
    long AcceptedCount,
    long DuplicateCount,
    long RefusedCount,
    long LastSequence,
    int Partition,
    long BufferedCount,
    long DeadCount,
    bool Disabled,
    bool HasCredentials)
{
    public static DeviceView From(DeviceStatus status, bool provisioned) => new(
        status.DeviceId, status.FirstSeen, status.LastSeen, status.AcceptedCount, status.DuplicateCount, status.RefusedCount,
        status.LastSequence, status.Partition, status.BufferedCount, status.DeadCount, status.Disabled, provisioned);
}
