using System.Globalization;
using System.Text;

namespace Gateway.Load.Check;

/// <summary>What <see cref="DeliveryCheck"/> found.</summary>
/// <param name="Acknowledged">Distinct messages the gateway acknowledged.</param>
/// <param name="Received">Records of those devices the sink received, duplicates included.</param>
/// <param name="Missing">Acknowledged but never received: must be 0.</param>
/// <param name="Duplicates">Received more than once (allowed: at-least-once).</param>
/// <param name="OutOfOrder">A device's message first received after a later one of the same device: must be 0.</param>
/// <param name="UnacknowledgedDelivered">Received though never acknowledged (stored, but the answer was lost): allowed.</param>
/// <param name="Unreadable">Sink lines that did not parse (torn by a crash mid-write).</param>
internal sealed record CheckResult(
    long Acknowledged,
    long Received,
    long Missing,
    long Duplicates,
    long OutOfOrder,
    long UnacknowledgedDelivered,
    long Unreadable,
    IReadOnlyList<string> MissingExamples,
    IReadOnlyList<string> OrderExamples)
{
    /// <summary>Nothing acknowledged is missing and every device's order held.</summary>
    public bool Passed => Missing == 0 && OutOfOrder == 0;

    public string Describe()
    {
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"{(Passed ? "PASS" : "FAIL")}: acknowledged {Acknowledged}, received {Received}, missing {Missing}, duplicates {Duplicates}, out-of-order {OutOfOrder}, delivered-unacknowledged {UnacknowledgedDelivered}, unreadable lines {Unreadable}"));
        foreach (var example in MissingExamples)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n  missing: {example}");
        }

        foreach (var example in OrderExamples)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n  out of order: {example}");
        }

        return text.ToString();
    }
}
