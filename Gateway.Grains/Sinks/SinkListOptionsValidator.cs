using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Gateway.Sinks;

/// <summary>Checks every configured sink and the rules across them, naming the offending key.</summary>
public sealed class SinkListOptionsValidator : IValidateOptions<SinkListOptions>
{
    /// <summary>Sink types this build knows.</summary>
    public static readonly IReadOnlyList<string> KnownTypes = [FileSink.TypeName];

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SinkListOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Sinks.Count; i++)
        {
            var sink = options.Sinks[i];
            var key = $"Gateway:Sinks:{i}";
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(sink, new ValidationContext(sink), results, validateAllProperties: true))
            {
                foreach (var result in results)
                {
                    failures.Add($"{key}:{string.Join(",", result.MemberNames)}: {result.ErrorMessage}");
                }
            }

            if (!KnownTypes.Contains(sink.Type, StringComparer.Ordinal))
            {
                failures.Add($"{key}:Type: '{sink.Type}' is not a sink type; expected one of {string.Join(", ", KnownTypes)}.");
            }

            if (!names.Add(sink.Name))
            {
                failures.Add($"{key}:Name: '{sink.Name}' is used by another sink.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
