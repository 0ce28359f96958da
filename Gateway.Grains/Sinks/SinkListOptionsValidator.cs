using System.ComponentModel.DataAnnotations;
using Gateway.Routing;
using Microsoft.Extensions.Options;

namespace Gateway.Sinks;

/// <summary>
/// Checks every configured sink and the rules across them, naming the offending key: at most 256 sinks (a message's
/// deliveries share its id range, see DeliveryIds), types known, names unique, filters well-formed, each type's required settings present, TLS egress unless explicitly
/// opted out, certificate files present.
/// </summary>
public sealed class SinkListOptionsValidator : IValidateOptions<SinkListOptions>
{
    /// <summary>Sink types this build knows.</summary>
    public static readonly IReadOnlyList<string> KnownTypes = [FileSink.TypeName, HttpSink.TypeName, MqttSink.TypeName];

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SinkListOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (options.Sinks.Count > Wal.DeliveryIds.PerMessage)
        {
            failures.Add($"Gateway:Sinks: {options.Sinks.Count} sinks are configured; at most {Wal.DeliveryIds.PerMessage} are supported.");
        }

        for (var i = 0; i < options.Sinks.Count; i++)
        {
            var sink = options.Sinks[i];
            var key = $"Gateway:Sinks:{i}";
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(sink, new ValidationContext(sink), results, validateAllProperties: true))
            {
                failures.AddRange(results.Select(result => $"{key}:{string.Join(",", result.MemberNames)}: {result.ErrorMessage}"));
            }

            if (!KnownTypes.Contains(sink.Type, StringComparer.Ordinal))
            {
                failures.Add($"{key}:Type: '{sink.Type}' is not a sink type; expected one of {string.Join(", ", KnownTypes)}.");
            }

            if (!names.Add(sink.Name))
            {
                failures.Add($"{key}:Name: '{sink.Name}' is used by another sink.");
            }

            failures.AddRange(TopicFilter.Problems(sink.Topics).Select(problem => $"{key}:Topics: {problem}"));

            failures.AddRange(ValidateEndpoint(sink).Select(failure => $"{key}:{failure}"));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static IEnumerable<string> ValidateEndpoint(SinkOptions sink)
    {
        if (sink.Type == HttpSink.TypeName)
        {
            if (sink.Url is not { IsAbsoluteUri: true } url || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
            {
                yield return "Url: an absolute https:// URL is required for an http sink.";
            }
            else if (url.Scheme == Uri.UriSchemeHttp && !sink.AllowInsecure)
            {
                yield return $"Url: '{url}' is plaintext; use https:// or set AllowInsecure=true to send telemetry unencrypted.";
            }
        }

        if (sink.TokenFile is not null)
        {
            if (sink.Type != HttpSink.TypeName)
            {
                yield return "TokenFile: only an http sink sends a token.";
            }
            else if (!File.Exists(sink.TokenFile))
            {
                yield return $"TokenFile: '{sink.TokenFile}' does not exist.";
            }
            else if (new FileInfo(sink.TokenFile).Length == 0)
            {
                yield return $"TokenFile: '{sink.TokenFile}' is empty.";
            }

            if (string.IsNullOrWhiteSpace(sink.TokenHeader) || !sink.TokenHeader.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            {
                yield return $"TokenHeader: '{sink.TokenHeader}' is not an HTTP header name.";
            }
        }

        if (sink.Type == MqttSink.TypeName && string.IsNullOrWhiteSpace(sink.Host))
        {
            yield return "Host: the upstream broker's host name is required for an mqtt sink.";
        }

        foreach (var (setting, path) in new[] { ("CaCertificatePath", sink.CaCertificatePath), ("ClientCertificatePath", sink.ClientCertificatePath), ("ClientKeyPath", sink.ClientKeyPath) })
        {
            if (path is not null && !File.Exists(path))
            {
                yield return $"{setting}: '{path}' does not exist.";
            }
        }

        if ((sink.ClientCertificatePath is null) != (sink.ClientKeyPath is null))
        {
            yield return "ClientCertificatePath and ClientKeyPath go together.";
        }
    }
}
