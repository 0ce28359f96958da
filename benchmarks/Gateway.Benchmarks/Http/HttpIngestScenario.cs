using System.Globalization;
using System.Runtime.CompilerServices;
using Gateway.Benchmarks.Measurement;

namespace Gateway.Benchmarks.Http;

/// <summary>
/// <c>http-ingest</c>: the whole path over real HTTP on loopback, from request to the WAL commit that the 202
/// waits for, against the built gateway in a child process. 64 devices post at once, each waiting for its
/// answer before the next request; one variant posts single messages, the other arrays of 100.
/// </summary>
internal sealed class HttpIngestScenario(string siloAssembly) : IScenario
{
    /// <summary>The subcommand.</summary>
    public const string Name = "http-ingest";

    private const int Devices = 64;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan VariantTimeLimit = TimeSpan.FromMinutes(2);

    // The warm-ups are long because the gateway's tiered compilation keeps a core busy for seconds after start.
    private static readonly Variant[] Variants =
    [
        new("single message per request", 1, WarmUpMessages: 10_000, Messages: 40_000),
        new("batch of 100 per request", 100, WarmUpMessages: 20_000, Messages: 200_000),
    ];

    public async IAsyncEnumerable<ResultRow> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        StatusLog.Write($"{Name}: starting {siloAssembly}");
        await using var gateway = await GatewayProcess.StartAsync(siloAssembly, cancellationToken);
        using var client = LoopbackHttp.CreateClient(Devices, RequestTimeout);
        var sender = new TelemetrySender(client, gateway.IngestAddress, Devices);
        foreach (var variant in Variants)
        {
            using var timeLimit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeLimit.CancelAfter(VariantTimeLimit);

            // Activates the device grains and compiles the request path before anything is timed.
            StatusLog.Write($"{Name} {variant.Label}: warm-up, then {variant.Messages:N0} messages");
            var warmUpErrors = new IngestErrors();
            await ConcurrentLoad.RunAsync(Devices, variant.WarmUpMessages / variant.MessagesPerRequest,
                i => sender.CreateDevice(i, variant.MessagesPerRequest, warmUpErrors), timeLimit.Token);
            Report("warm-up", warmUpErrors);

            var errors = new IngestErrors();
            var requests = variant.Messages / variant.MessagesPerRequest;
            var load = await ConcurrentLoad.RunAsync(Devices, requests,
                i => sender.CreateDevice(i, variant.MessagesPerRequest, errors), timeLimit.Token);
            Report("measured run", errors);

            var accepted = (long)(requests - load.Failures) * variant.MessagesPerRequest;
            yield return new ResultRow(
                $"{Name}: {variant.Label}",
                accepted, load.Elapsed, load.Latency,
                string.Create(CultureInfo.InvariantCulture,
                    $"{requests:N0} requests from {Devices} devices; latency per request; {errors.Total:N0} errors"));
        }
    }

    private static void Report(string run, IngestErrors errors)
    {
        if (errors.Total == 0)
        {
            return;
        }

        StatusLog.Write($"{Name} {run}: {errors.Total:N0} requests did not get 202:");
        foreach (var line in errors.Describe())
        {
            StatusLog.Write("  " + line);
        }
    }

    private sealed record Variant(string Label, int MessagesPerRequest, int WarmUpMessages, int Messages);
}
