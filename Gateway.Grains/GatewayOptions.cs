using System.ComponentModel.DataAnnotations;

namespace Gateway;

/// <summary>Settings under <c>Gateway</c> that every part of the gateway shares.</summary>
public sealed class GatewayOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gateway";

    /// <summary>
    /// Names this gateway (or cluster) in every message id; keep it stable, since receivers drop
    /// duplicates by message id.
    /// </summary>
    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        ErrorMessage = "Gateway:GatewayId must be 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit.")]
    public string GatewayId { get; set; } = "gateway";

    /// <summary>The folder holding the SQLite database and everything else the gateway keeps.</summary>
    [Required(ErrorMessage = "Gateway:DataPath must name a folder.")]
    public string DataPath { get; set; } = "data";
}
