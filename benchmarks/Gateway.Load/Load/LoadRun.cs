namespace Gateway.Load.Load;

/// <summary>
/// One load run: connects every device first (so connection set-up is not measured), lets them send through the
/// warm-up and the measured window, waits for what is outstanding, and summarizes.
/// </summary>
internal static class LoadRun
{
    private const int ConcurrentConnects = 32;
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(5);

    public static async Task<LoadSummary> RunAsync(LoadSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        using var http = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            MaxConnectionsPerServer = settings.Concurrency > 0 ? settings.Concurrency : settings.Devices,
        })
        {
            Timeout = settings.AckTimeout,
        };
        using var turns = new SemaphoreSlim(settings.Concurrency > 0 ? settings.Concurrency : settings.Devices);
        var links = new IDeviceLink[settings.Devices];
        for (var i = 0; i < links.Length; i++)
        {
            links[i] = settings.Transport == Transport.Http
                ? new HttpDeviceLink(http, new Uri($"http://{settings.Host}:{settings.Port}/v1/devices/{settings.DeviceId(i)}/telemetry"))
                : new MqttDeviceLink(settings, settings.DeviceId(i));
        }

        try
        {
            await Parallel.ForEachAsync(
                Enumerable.Range(0, links.Length),
                new ParallelOptions { MaxDegreeOfParallelism = ConcurrentConnects, CancellationToken = cancellationToken },
                async (i, token) => await DeviceRunner.ConnectAsync(links[i], token).ConfigureAwait(false)).ConfigureAwait(false);

            var recorder = new LoadRecorder();
            using var cpu = new CpuWindow(settings.ServerPid);
            await using (var ackLog = AckLog.Open(settings.AckedPath))
            {
                using var stopSending = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var runner = new DeviceRunner(settings, recorder, ackLog, new TelemetryPayload(settings.PayloadBytes));
                var devices = Enumerable.Range(0, links.Length)
                    .Select(i => Task.Run(
                        async () =>
                        {
                            try
                            {
                                await turns.WaitAsync(abort.Token).ConfigureAwait(false);
                            }
                            catch (OperationCanceledException)
                            {
                                return;
                            }

                            try
                            {
                                await runner.RunAsync(i, links[i], stopSending.Token, abort.Token).ConfigureAwait(false);
                            }
                            finally
                            {
                                turns.Release();
                            }
                        },
                        CancellationToken.None))
                    .ToArray();
                var allDone = Task.WhenAll(devices);

                await Task.WhenAny(allDone, Task.Delay(settings.WarmUp, cancellationToken)).ConfigureAwait(false);
                recorder.OpenWindow();
                cpu.Open();
                if (settings.Duration is { } duration)
                {
                    await Task.WhenAny(allDone, Task.Delay(duration, cancellationToken)).ConfigureAwait(false);
                }
                else
                {
                    await allDone.ConfigureAwait(false);
                }

                recorder.CloseWindow();
                cpu.Close();
                await stopSending.CancelAsync().ConfigureAwait(false);
                if (await Task.WhenAny(allDone, Task.Delay(settings.AckTimeout + DrainGrace, CancellationToken.None)).ConfigureAwait(false) != allDone)
                {
                    await abort.CancelAsync().ConfigureAwait(false);
                }

                await allDone.ConfigureAwait(false);
            }

            return LoadSummary.From(settings, recorder, cpu);
        }
        finally
        {
            foreach (var link in links)
            {
                await link.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
