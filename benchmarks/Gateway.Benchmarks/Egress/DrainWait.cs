using System.Diagnostics;

namespace Gateway.Benchmarks.Egress;

/// <summary>Waits for what a drain scenario watches the cloud receive, within a time limit from the cloud's return.</summary>
internal static class DrainWait
{
    /// <summary>How long after the cloud comes back a drain may take before the scenario fails.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);

    /// <summary>Polls <paramref name="condition"/> every few milliseconds until it holds; throws past <see cref="Limit"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, Stopwatch sinceCloudUp, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            if (sinceCloudUp.Elapsed > Limit)
            {
                throw new TimeoutException($"The backlog did not drain within {Limit} of the cloud coming up.");
            }

            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }
}
