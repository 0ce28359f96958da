using System.Diagnostics;

namespace Gateway.Load.Load;

/// <summary>
/// One device's loop, as a device that keeps its messages until they are acknowledged: up to
/// <see cref="LoadSettings.InFlight"/> messages outstanding, numbered 1, 2, 3, ... When one is refused or lost,
/// the device settles the others, (re)connects if needed and sends again from the first unacknowledged one,
/// in order, so per-device order holds across gateway crashes.
/// </summary>
internal sealed class DeviceRunner(LoadSettings settings, LoadRecorder recorder, AckLog ackLog, TelemetryPayload payload)
{
    private static readonly TimeSpan RefusedBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromMilliseconds(250);

    /// <param name="index">Which device.</param>
    /// <param name="link">Its connection, already connected.</param>
    /// <param name="stopSending">No new messages after this; what is outstanding is still waited for.</param>
    /// <param name="abort">Gives up on outstanding messages and reconnects.</param>
    public async Task RunAsync(int index, IDeviceLink link, CancellationToken stopSending, CancellationToken abort)
    {
        var deviceId = settings.DeviceId(index);
        var share = settings.ShareOf(index);
        var pacer = new DevicePacer(settings.Rate / settings.Devices);
        var latencies = recorder.NewLatencyList();
        var logAcknowledged = settings.Transport != Transport.MqttQos0;
        var outstanding = new Queue<Outstanding>();
        var next = 1L;
        if (settings.Silent)
        {
            await WaitForAsync(stopSending).ConfigureAwait(false);
            return;
        }

        while (!abort.IsCancellationRequested)
        {
            while (outstanding.Count < settings.InFlight && !stopSending.IsCancellationRequested && (share is null || next <= share))
            {
                try
                {
                    await pacer.WaitTurnAsync(stopSending).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                var key = new MessageKey(deviceId, next++);
                outstanding.Enqueue(new Outstanding(key, Stopwatch.GetTimestamp(), link.SendAsync(key, payload.Create(key), abort)));
            }

            if (!outstanding.TryDequeue(out var head))
            {
                return;
            }

            var outcome = await head.Sending.ConfigureAwait(false);
            if (outcome == SendOutcome.Acknowledged)
            {
                Settle(head, latencies, logAcknowledged);
                continue;
            }

            // Whatever followed the failed message is settled before it is sent again, so it never overtakes it.
            while (outstanding.TryDequeue(out var later))
            {
                if (await later.Sending.ConfigureAwait(false) == SendOutcome.Acknowledged)
                {
                    Settle(later, latencies, logAcknowledged);
                }
            }

            next = head.Key.Number;
            try
            {
                if (outcome == SendOutcome.Refused)
                {
                    recorder.Refuse();
                    await Task.Delay(RefusedBackoff, abort).ConfigureAwait(false);
                }
                else
                {
                    recorder.Lose();
                    await ConnectAsync(link, abort).ConfigureAwait(false);
                    recorder.Reconnect();
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Connects, retrying until it succeeds or <paramref name="abort"/> fires.</summary>
    public static async Task ConnectAsync(IDeviceLink link, CancellationToken abort)
    {
        ArgumentNullException.ThrowIfNull(link);
        while (!await link.ConnectAsync(abort).ConfigureAwait(false))
        {
            // Jittered, so a thousand devices do not all knock at once when the gateway comes back.
            await Task.Delay(ReconnectDelay + TimeSpan.FromMilliseconds(Random.Shared.Next(250)), abort).ConfigureAwait(false);
        }
    }

    private static async Task WaitForAsync(CancellationToken token)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Settle(Outstanding message, List<long> latencies, bool logAcknowledged)
    {
        recorder.Acknowledge(latencies, message.SentAt);
        if (logAcknowledged)
        {
            ackLog.Add(message.Key);
        }
    }

    private sealed record Outstanding(MessageKey Key, long SentAt, Task<SendOutcome> Sending);
}
