using System.Diagnostics;

namespace Gateway.Load.Load;

/// <summary>
/// Spaces one device's new messages at its share of the total rate, starting at a random phase so the devices
/// do not send in lockstep. After a stall (an outage) it catches up at most one second's worth, not in a burst.
/// </summary>
internal sealed class DevicePacer
{
    private readonly long _intervalTicks;
    private long _nextDue;

    /// <param name="messagesPerSecond">This device's rate; 0 sends as fast as acknowledgements allow.</param>
    public DevicePacer(double messagesPerSecond)
    {
        _intervalTicks = messagesPerSecond > 0 ? (long)(Stopwatch.Frequency / messagesPerSecond) : 0;
        _nextDue = Stopwatch.GetTimestamp() + (long)(Random.Shared.NextDouble() * _intervalTicks);
    }

    public async Task WaitTurnAsync(CancellationToken cancellationToken)
    {
        if (_intervalTicks == 0)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        _nextDue = Math.Max(_nextDue, now - Stopwatch.Frequency);
        if (_nextDue > now)
        {
            await Task.Delay(Stopwatch.GetElapsedTime(now, _nextDue), cancellationToken).ConfigureAwait(false);
        }

        _nextDue += _intervalTicks;
    }
}
