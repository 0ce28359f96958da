using System.Diagnostics;
using System.Globalization;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

// MQTT QoS 1 load generator: N clients, each publishing one message and waiting for its PUBACK before the
// next (as a device does), for a fixed time. The same program measures the gateway and mosquitto.
// Usage: Gateway.MqttLoad <label> <port> <clients> <seconds> [payloadBytes]
var label = args[0];
var port = int.Parse(args[1], CultureInfo.InvariantCulture);
var clientCount = int.Parse(args[2], CultureInfo.InvariantCulture);
var seconds = double.Parse(args[3], CultureInfo.InvariantCulture);
var payloadBytes = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 100;
var payload = new byte[payloadBytes];
Array.Fill(payload, (byte)'x');

var factory = new MqttClientFactory();
var clients = new IMqttClient[clientCount];
var run = Guid.NewGuid().ToString("N")[..6];
await Parallel.ForEachAsync(Enumerable.Range(0, clientCount), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, token) =>
{
    var client = factory.CreateMqttClient();
    var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithProtocolVersion(MqttProtocolVersion.V500)
        .WithClientId($"load-{run}-{i}").WithCleanSession().WithTimeout(TimeSpan.FromSeconds(30)).Build();
    var result = await client.ConnectAsync(options, token);
    if (result.ResultCode != MqttClientConnectResultCode.Success)
    {
        throw new InvalidOperationException($"client {i}: {result.ResultCode}");
    }

    clients[i] = client;
});

using var stop = new CancellationTokenSource();
var latencies = new List<double>[clientCount];
var refused = 0L;
var warmup = TimeSpan.FromSeconds(1);
var measuring = false;
var tasks = Enumerable.Range(0, clientCount).Select(i => Task.Run(async () =>
{
    var mine = latencies[i] = new List<double>(4096);
    var message = new MqttApplicationMessageBuilder().WithTopic($"devices/load-{run}-{i}/telemetry").WithPayload(payload)
        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
    while (!stop.IsCancellationRequested)
    {
        var start = Stopwatch.GetTimestamp();
        var result = await clients[i].PublishAsync(message);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (!result.IsSuccess)
        {
            Interlocked.Increment(ref refused);
        }
        else if (Volatile.Read(ref measuring))
        {
            mine.Add(elapsed);
        }
    }
})).ToList();

await Task.Delay(warmup);
Volatile.Write(ref measuring, true);
var clock = Stopwatch.StartNew();
await Task.Delay(TimeSpan.FromSeconds(seconds));
Volatile.Write(ref measuring, false);
var measured = clock.Elapsed.TotalSeconds;
await stop.CancelAsync();
await Task.WhenAll(tasks);
foreach (var client in clients)
{
    await client.DisconnectAsync();
    client.Dispose();
}

var all = latencies.SelectMany(list => list).Order().ToArray();
double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(p * all.Length))];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"| {label} | {clientCount} | {all.Length / measured:F0} | {Percentile(0.50):F2} | {Percentile(0.99):F2} | {refused} |"));
