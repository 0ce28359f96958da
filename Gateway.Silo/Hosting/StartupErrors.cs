using System.Net.Sockets;
using Gateway.Cluster;
using Gateway.Ingest.Mqtt.Listener;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace Gateway.Silo.Hosting;

/// <summary>
/// Turns a configuration error at start into one line naming the key and what is wrong, and a listener that cannot
/// bind into one line naming the address (usually another gateway, or another program, holds the port).
/// </summary>
public static class StartupErrors
{
    /// <summary>Exit code of a gateway stopped by bad configuration.</summary>
    public const int ConfigurationExitCode = 2;

    /// <summary>The one-line message for a configuration error, or null when the error is something else.</summary>
    public static string? Describe(Exception error) => error switch
    {
        OptionsValidationException validation => "Configuration error: " + string.Join(" ", validation.Failures),
        DatabaseUnreachableException unreachable => "Start-up failed: " + unreachable.Message,
        ListenerBindException bind => "Start-up failed: " + bind.Message,
        // Kestrel's own message names the address: "Failed to bind to address http://127.0.0.1:8080: address already in use."
        IOException { InnerException: AddressInUseException } kestrel => "Start-up failed: " + kestrel.Message,
        SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } socket =>
            "Start-up failed: a port of the Orleans silo (Gateway:Orleans:SiloPort or GatewayPort) is already in use: " + socket.Message,
        InvalidOperationException { Message: var message } when message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal)
            => "Configuration error: " + message,
        AggregateException { InnerExceptions.Count: 1 } aggregate => Describe(aggregate.InnerExceptions[0]),
        _ when error.InnerException is not null => Describe(error.InnerException),
        _ => null,
    };
}
