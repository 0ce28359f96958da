using System.ComponentModel.DataAnnotations;
using Gateway.Routing;
using Microsoft.Extensions.Options;

namespace Gateway.Lanes;

/// <summary>
/// Checks the configured lanes, naming the offending key: each lane's settings, names and priorities unique, topic
/// filters well-formed, and exactly one lane without filters, which takes every message no other lane takes.
/// </summary>
public sealed class LaneListOptionsValidator : IValidateOptions<LaneListOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, LaneListOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Lanes.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var priorities = new HashSet<int>();
        var takingTheRest = new List<string>();
        for (var i = 0; i < options.Lanes.Count; i++)
        {
            var lane = options.Lanes[i];
            var key = $"Gateway:Lanes:{i}";
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(lane, new ValidationContext(lane), results, validateAllProperties: true))
            {
                failures.AddRange(results.Select(result => $"{key}:{string.Join(",", result.MemberNames)}: {result.ErrorMessage}"));
            }

            if (!names.Add(lane.Name))
            {
                failures.Add($"{key}:Name: '{lane.Name}' is used by another lane.");
            }

            if (!priorities.Add(lane.Priority))
            {
                failures.Add($"{key}:Priority: {lane.Priority} is used by another lane; each lane needs its own.");
            }

            failures.AddRange(TopicFilter.Problems(lane.Topics).Select(problem => $"{key}:Topics: {problem}"));

            if (lane.Topics.Count == 0 && lane.Devices.Count == 0)
            {
                takingTheRest.Add(lane.Name);
            }
        }

        if (takingTheRest.Count != 1)
        {
            failures.Add(takingTheRest.Count == 0
                ? "Gateway:Lanes: every lane has Topics or Devices; exactly one must have neither, to take the messages no other lane takes."
                : $"Gateway:Lanes: lanes {string.Join(", ", takingTheRest.Select(lane => $"'{lane}'"))} have neither Topics nor Devices; exactly one may, to take the messages no other lane takes.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
