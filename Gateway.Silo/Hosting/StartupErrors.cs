using Gateway.Cluster;
using Microsoft.Extensions.Options;

namespace Gateway.Silo.Hosting;

/// <summary>Turns a configuration error at start into one line naming the key and what is wrong.</summary>
public static class StartupErrors
{
    /// <summary>Exit code of a gateway stopped by bad configuration.</summary>
    public const int ConfigurationExitCode = 2;

    /// <summary>The one-line message for a configuration error, or null when the error is something else.</summary>
    public static string? Describe(Exception error) => error switch
    {
        OptionsValidationException validation => "Configuration error: " + string.Join(" ", validation.Failures),
        DatabaseUnreachableException unreachable => "Start-up failed: " + unreachable.Message,
        InvalidOperationException { Message: var message } when message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal)
            => "Configuration error: " + message,
        AggregateException { InnerExceptions.Count: 1 } aggregate => Describe(aggregate.InnerExceptions[0]),
        _ when error.InnerException is not null => Describe(error.InnerException),
        _ => null,
    };
}
