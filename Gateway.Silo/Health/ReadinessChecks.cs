using System.ComponentModel.DataAnnotations;
using Gateway.Devices;
using Gateway.Ingest.Http;
using Gateway.Lanes;
using Gateway.Silo.Hosting;
using Gateway.Wal;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Gateway.Silo.Health;

/// <summary>One condition of <c>/readyz</c>. A feature with its own listener (MQTT) registers one too.</summary>
public interface IReadinessCheck
{
    /// <summary>The check's key in the JSON answer.</summary>
    string Name { get; }

    /// <summary>Whether the condition holds now, and why not.</summary>
    ValueTask<ReadinessResult> CheckAsync(CancellationToken cancellationToken);
}

/// <summary>The outcome of one <see cref="IReadinessCheck"/>.</summary>
/// <param name="Ready">True when the condition holds.</param>
/// <param name="Reason">Why it does not, for the operator; null when ready, unless a warning.</param>
public readonly record struct ReadinessResult(bool Ready, string? Reason)
{
    /// <summary>The condition holds.</summary>
    public static ReadinessResult Pass => new(true, null);

    /// <summary>The condition does not hold, because of <paramref name="reason"/>.</summary>
    public static ReadinessResult Fail(string reason) => new(false, reason);

    /// <summary>The gateway is ready, with something the operator should know (<paramref name="reason"/>).</summary>
    public static ReadinessResult Warn(string reason) => new(true, reason);

    /// <summary>How <c>/readyz</c> names the outcome: pass, warn or fail.</summary>
    public string Status => !Ready ? "fail" : Reason is null ? "pass" : "warn";
}

/// <summary>Settings under <c>Gateway:Health</c>.</summary>
public sealed class HealthOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gateway:Health";

    /// <summary>How long a WAL write probe's result is reused, so frequent probes do not each write to disk.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00", ErrorMessage = "Gateway:Health:WalProbeInterval must be between 0 and 5 minutes.")]
    public TimeSpan WalProbeInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a WAL write probe may take before the WAL counts as not writable.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "Gateway:Health:WalProbeTimeout must be between 100 ms and 1 minute.")]
    public TimeSpan WalProbeTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>The silo has reached Active and is not stopping.</summary>
internal sealed class SiloReadinessCheck(SiloActivity silo) : IReadinessCheck
{
    public string Name => "silo";

    public ValueTask<ReadinessResult> CheckAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(silo.IsActive ? ReadinessResult.Pass : ReadinessResult.Fail("The silo is not active (starting or stopping)."));
}

/// <summary>
/// The WAL takes a real write: a one-row probe committed (and synced) through the group-commit writer, the path
/// every message takes. The result is reused for <see cref="HealthOptions.WalProbeInterval"/>, and concurrent
/// probes share one write.
/// </summary>
internal sealed class WalReadinessCheck(IDeliveryLog wal, TimeProvider time, IOptions<HealthOptions> options) : IReadinessCheck
{
    private readonly HealthOptions _options = options.Value;
    private readonly Lock _lock = new();
    private Task<ReadinessResult>? _probe;
    private long _probedAt;

    public string Name => "wal";

    public ValueTask<ReadinessResult> CheckAsync(CancellationToken cancellationToken)
    {
        Task<ReadinessResult> probe;
        lock (_lock)
        {
            if (_probe is null || (_probe.IsCompleted && time.GetElapsedTime(_probedAt) >= _options.WalProbeInterval))
            {
                _probedAt = time.GetTimestamp();
                _probe = ProbeAsync();
            }

            probe = _probe;
        }

        return new ValueTask<ReadinessResult>(probe.WaitAsync(cancellationToken));
    }

    private async Task<ReadinessResult> ProbeAsync()
    {
        try
        {
            await wal.ProbeWriteAsync().WaitAsync(_options.WalProbeTimeout, time);
            return ReadinessResult.Pass;
        }
        catch (TimeoutException)
        {
            return ReadinessResult.Fail($"A WAL write did not commit within {_options.WalProbeTimeout.TotalSeconds:0.###} s.");
        }
        catch (Exception error)
        {
            return ReadinessResult.Fail($"The WAL cannot be written: {error.GetType().Name}: {error.Message}");
        }
    }
}

/// <summary>The data disk has more free space than <c>Gateway:Wal:DiskFreeFloorBytes</c>.</summary>
internal sealed class DiskReadinessCheck(IngestPressure pressure) : IReadinessCheck
{
    public string Name => "disk";

    public ValueTask<ReadinessResult> CheckAsync(CancellationToken cancellationToken)
    {
        var (reason, detail) = pressure.CheckDisk();
        return ValueTask.FromResult(reason == RefusalReason.None ? ReadinessResult.Pass : ReadinessResult.Fail(detail!));
    }
}

/// <summary>The WAL is below its high-water marks, so ingest takes messages.</summary>
internal sealed class BackpressureReadinessCheck(IngestPressure pressure) : IReadinessCheck
{
    public string Name => "backpressure";

    public ValueTask<ReadinessResult> CheckAsync(CancellationToken cancellationToken)
    {
        var (reason, detail) = pressure.CheckBacklog();
        return ValueTask.FromResult(reason == RefusalReason.None ? ReadinessResult.Pass : ReadinessResult.Fail(detail!));
    }
}

/// <summary>
/// Which lanes ingest refuses now, as a warning: a gateway that refuses its bulk lane but takes its critical one is
/// still ready (the hard limits are the backpressure and disk checks). Passes while every lane is accepted.
/// </summary>
internal sealed class LanesReadinessCheck(IngestPressure pressure, LaneCatalog lanes) : IReadinessCheck
{
    public string Name => "lanes";

    public ValueTask<ReadinessResult> CheckAsync(CancellationToken cancellationToken)
    {
        var refused = new List<string>();
        foreach (var lane in lanes.Lanes)
        {
            var (reason, detail) = pressure.Check(lane);
            if (reason != RefusalReason.None)
            {
                refused.Add($"[{lane.Name}] {detail}");
            }
        }

        return ValueTask.FromResult(refused.Count == 0 ? ReadinessResult.Pass : ReadinessResult.Warn($"Refused lanes: {string.Join(" ", refused)}"));
    }
}

/// <summary>The HTTP server listens on the ingest port, the HTTPS ingest port when configured, and the operations port.</summary>
internal sealed class ListenersReadinessCheck(IServer server, IOptions<HttpIngestOptions> ingest, IOptions<OperationsOptions> operations) : IReadinessCheck
{
    public string Name => "listeners";

    public ValueTask<ReadinessResult> CheckAsync(CancellationToken cancellationToken)
    {
        var bound = new HashSet<int>();
        foreach (var address in server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
        {
            if (Uri.TryCreate(address, UriKind.Absolute, out var uri))
            {
                bound.Add(uri.Port);
            }
        }

        var missing = new List<string>(3);
        if (!bound.Contains(ingest.Value.Port))
        {
            missing.Add($"HTTP ingest (port {ingest.Value.Port})");
        }

        if (ingest.Value.TlsEnabled && !bound.Contains(ingest.Value.TlsPort))
        {
            missing.Add($"HTTPS ingest (port {ingest.Value.TlsPort})");
        }

        if (!bound.Contains(operations.Value.Port))
        {
            missing.Add($"operations (port {operations.Value.Port})");
        }

        return ValueTask.FromResult(missing.Count == 0
            ? ReadinessResult.Pass
            : ReadinessResult.Fail($"Not listening: {string.Join(", ", missing)}."));
    }
}
