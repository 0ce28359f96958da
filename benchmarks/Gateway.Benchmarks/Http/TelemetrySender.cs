using System.Net;
using System.Net.Http.Headers;
using Gateway.Benchmarks.Measurement;
using Gateway.Wal;

namespace Gateway.Benchmarks.Http;

/// <summary>
/// Posts the benchmark devices' telemetry to the gateway. Each device numbers its messages on from one run to
/// the next, so no run repeats a message id that the gateway would drop as a retransmission.
/// </summary>
internal sealed class TelemetrySender(HttpClient client, Uri ingestAddress, int devices)
{
    private const int MaxErrorBodyChars = 300;
    private static readonly MediaTypeHeaderValue JsonType = new(MediaTypes.Json);
    private readonly long[] _lastSequences = new long[devices];

    /// <summary>
    /// Device <paramref name="deviceIndex"/> posting <paramref name="messagesPerRequest"/> messages per request
    /// (an object for one, an array for more); anything but 202 is counted in <paramref name="errors"/>.
    /// </summary>
    public LoadOperation CreateDevice(int deviceIndex, int messagesPerRequest, IngestErrors errors)
    {
        var deviceId = SampleTelemetry.DeviceId(deviceIndex);
        var telemetry = new Uri(ingestAddress, $"v1/devices/{deviceId}/telemetry");
        return async cancellationToken =>
        {
            var firstSequence = _lastSequences[deviceIndex] + 1;
            _lastSequences[deviceIndex] += messagesPerRequest;
            var body = messagesPerRequest == 1
                ? SampleTelemetry.Json(deviceId, firstSequence)
                : SampleTelemetry.JsonArray(deviceId, firstSequence, messagesPerRequest);
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = JsonType;
            try
            {
                using var response = await client.PostAsync(telemetry, content, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    return true;
                }

                var detail = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                errors.Add($"HTTP {(int)response.StatusCode}: {Truncate(detail)}");
            }
            catch (HttpRequestException error)
            {
                errors.Add($"{error.GetType().Name}: {error.Message}");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                errors.Add($"no answer within {client.Timeout.TotalSeconds} s");
            }

            return false;
        };
    }

    private static string Truncate(string text) => text.Length <= MaxErrorBodyChars ? text : text[..MaxErrorBodyChars] + "...";
}
