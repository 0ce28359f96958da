using System.Runtime.InteropServices;
using Gateway.Load;
using Gateway.Load.Broker;
using Gateway.Load.Check;
using Gateway.Load.Load;
using Gateway.Load.Receive;

// The device side of the benchmarks and chaos runs: `run` drives load and logs what was acknowledged,
// `receive` is a local cloud writing what the http sink posts, `check` compares the two.
const int Failed = 1;
const int UsageError = 2;
const string Usage = """
    usage:
      Gateway.Load run ...        load against the gateway (or any MQTT broker); see `run --help`
      Gateway.Load check --acked <file>... --sink <file or folder>...
                                  exit 1 when an acknowledged message is missing or a device's order broke
      Gateway.Load receive --port <port> --out <ndjson file>
                                  local HTTP cloud on 127.0.0.1: POST /ingest, a JSON array of records per request
      Gateway.Load broker --port <port>
                                  MQTTnet's server alone on 127.0.0.1, acking every PUBLISH at once (a baseline)
    """;

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine(Usage);
    return 0;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, press) =>
{
    press.Cancel = true;
    cancellation.Cancel();
};
// SIGTERM ends a run early but cleanly: the acknowledged ids logged so far are written out.
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
{
    signal.Cancel = true;
    cancellation.Cancel();
});

try
{
    var arguments = Arguments.Parse(args[1..]);
    switch (args[0])
    {
        case "run" when arguments.Flag("--help"):
            Console.WriteLine(LoadSettings.Usage);
            return 0;
        case "run":
        {
            var settings = LoadSettings.From(arguments);
            arguments.RejectUnknown();
            var summary = await LoadRun.RunAsync(settings, cancellation.Token);
            Console.WriteLine(summary.ToJson());
            return 0;
        }

        case "check":
        {
            var acked = arguments.All("--acked");
            var sinks = arguments.All("--sink");
            arguments.RejectUnknown();
            if (acked.Count == 0 || sinks.Count == 0)
            {
                throw new ArgumentException("check needs --acked and --sink.");
            }

            var check = new DeliveryCheck();
            foreach (var path in acked)
            {
                AcknowledgedIds.Read(path, check);
            }

            foreach (var file in sinks.SelectMany(SinkRecords.Files))
            {
                SinkRecords.Read(file, check);
            }

            var result = check.Result();
            Console.WriteLine(result.Describe());
            return result.Passed ? 0 : Failed;
        }

        case "receive":
        {
            var port = arguments.Integer("--port", 0, minimum: 1);
            var output = arguments.RequiredText("--out");
            arguments.RejectUnknown();
            await using var receiver = await NdjsonReceiver.StartAsync(port, output);
            Console.WriteLine($"receiving on http://127.0.0.1:{port}/ingest into {output}");
            await receiver.WaitForShutdownAsync();
            return 0;
        }

        case "broker":
        {
            var port = arguments.Integer("--port", 0, minimum: 1);
            arguments.RejectUnknown();
            using var broker = await BareMqttBroker.StartAsync(port);
            Console.WriteLine($"MQTTnet broker on 127.0.0.1:{port}");
            await Task.Delay(Timeout.Infinite, cancellation.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            Console.WriteLine($"answered {broker.Published} publishes");
            return 0;
        }

        default:
            throw new ArgumentException($"Unknown command '{args[0]}'.");
    }
}
catch (ArgumentException error)
{
    await Console.Error.WriteLineAsync(error.Message + Environment.NewLine + Usage);
    return UsageError;
}
