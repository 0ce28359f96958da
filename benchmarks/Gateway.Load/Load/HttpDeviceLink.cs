using System.Net;
using System.Net.Http.Headers;

namespace Gateway.Load.Load;

/// <summary>A device posting one JSON message per request; 202 is the acknowledgement.</summary>
internal sealed class HttpDeviceLink(HttpClient client, Uri telemetry) : IDeviceLink
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    public Task<bool> ConnectAsync(CancellationToken cancellationToken) => Task.FromResult(true);

    public async Task<SendOutcome> SendAsync(MessageKey key, byte[] payload, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(payload);
        content.Headers.ContentType = Json;
        try
        {
            using var response = await client.PostAsync(telemetry, content, cancellationToken).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.Accepted ? SendOutcome.Acknowledged : SendOutcome.Refused;
        }
        catch (Exception error) when (error is HttpRequestException or OperationCanceledException)
        {
            return SendOutcome.Lost;
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
