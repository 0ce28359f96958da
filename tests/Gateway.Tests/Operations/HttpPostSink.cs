using System.Net;
using System.Text.Json;
using Gateway.Sinks;
using Gateway.Wal;

namespace Gateway.Tests.Operations;

/// <summary>
/// A minimal cloud sink: posts each batch as a JSON array with an ordinary HttpClient. It does nothing about
/// tracing itself: the partition grain makes the delivery's span current, and HttpClient sends it.
/// </summary>
public sealed class HttpPostSink(string name, Uri url) : ISink, IDisposable
{
    private readonly HttpClient _client = new() { Timeout = TimeSpan.FromSeconds(10) };

    public string Name => name;

    public async Task<DeliveryResult> DeliverAsync(IReadOnlyList<WalRecord> batch, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream();
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartArray();
            foreach (var record in batch)
            {
                TelemetryRecordJson.Write(writer, record);
            }

            writer.WriteEndArray();
        }

        using var content = new ByteArrayContent(body.ToArray());
        using var response = await _client.PostAsync(url, content, cancellationToken);
        return response.StatusCode == HttpStatusCode.OK ? DeliveryResult.Delivered : DeliveryResult.Retry($"HTTP {(int)response.StatusCode}");
    }

    public void Dispose() => _client.Dispose();
}
