using System.Globalization;
using Gateway.Devices;

namespace Gateway.Silo.Admin;

/// <summary>
/// Reads the admin API's query and route values by hand, so a bad value is answered 400 naming its field rather
/// than by the framework's binder, which names nothing.
/// </summary>
internal static class AdminInput
{
    /// <summary>Largest page any list returns.</summary>
    public const int MaxLimit = 1000;

    /// <summary>Page size when none is asked for.</summary>
    public const int DefaultLimit = 100;

    public static bool TryLimit(string? value, out int limit, out IResult? error)
    {
        limit = DefaultLimit;
        error = null;
        if (value is null)
        {
            return true;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= MaxLimit)
        {
            return true;
        }

        error = AdminProblems.Invalid("limit", $"limit must be a whole number from 1 to {MaxLimit}.");
        return false;
    }

    public static bool TryCursor(string? value, string field, out long cursor, out IResult? error)
    {
        cursor = 0;
        error = null;
        if (value is null || (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out cursor) && cursor >= 0))
        {
            return true;
        }

        error = AdminProblems.Invalid(field, $"{field} must be a non-negative whole number (the 'next' of the previous page).");
        return false;
    }

    public static bool TryTime(string? value, string field, out DateTimeOffset? time, out IResult? error)
    {
        time = null;
        error = null;
        if (value is null)
        {
            return true;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            time = parsed;
            return true;
        }

        error = AdminProblems.Invalid(field, $"{field} must be an ISO 8601 time, e.g. 2026-01-31T12:00:00Z.");
        return false;
    }

    /// <summary>A time range: both ends optional, <paramref name="fromField"/> strictly before <paramref name="beforeField"/>.</summary>
    public static bool TryRange(
        string? from, string? before, string fromField, string beforeField,
        out DateTimeOffset? start, out DateTimeOffset? end, out IResult? error)
    {
        end = null;
        if (!TryTime(from, fromField, out start, out error) || !TryTime(before, beforeField, out end, out error))
        {
            return false;
        }

        if (start is { } a && end is { } b && a >= b)
        {
            error = AdminProblems.Invalid(beforeField, $"{beforeField} must be later than {fromField}.");
            return false;
        }

        return true;
    }

    public static bool TryDeviceId(string? value, string field, out IResult? error)
    {
        error = DeviceId.IsValid(value)
            ? null
            : AdminProblems.Invalid(field, $"{field} must be 1-{DeviceId.MaxLength} letters, digits, '-', '_' or '.', starting with a letter or digit.");
        return error is null;
    }

    public static bool TryMessageId(string? value, string field, out IResult? error)
    {
        error = MessageId.TryParse(value, out _, out _)
            ? null
            : AdminProblems.Invalid(field, $"{field} must be a message id of the form {{gatewayId}}:{{deviceId}}:{{sequence}}.");
        return error is null;
    }
}
