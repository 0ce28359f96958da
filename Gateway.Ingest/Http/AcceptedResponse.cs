using Gateway.Devices;

namespace Gateway.Ingest.Http;

/// <summary>The 202 body: one entry per message, in request order.</summary>
/// <param name="MessageIds">The gateway's id of each message (for a duplicate, its original's id).</param>
/// <param name="Messages">Each message's id, per-device sequence, and whether it was a retransmission.</param>
public sealed record AcceptedResponse(IReadOnlyList<string> MessageIds, IReadOnlyList<AcceptedMessage> Messages)
{
    /// <summary>The response for an accepted batch.</summary>
    public static AcceptedResponse From(AcceptResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var ids = new string[result.Messages.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = result.Messages[i].MessageId;
        }

        return new AcceptedResponse(ids, result.Messages);
    }
}
