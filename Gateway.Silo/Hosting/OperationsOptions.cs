using System.ComponentModel.DataAnnotations;

namespace Gateway.Silo.Hosting;

/// <summary>Settings under <c>Gateway:Operations</c>: the listener for health, metrics and admin.</summary>
public sealed class OperationsOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gateway:Operations";

    /// <summary>TCP port of the operations listener.</summary>
    [Range(1, 65535, ErrorMessage = "Gateway:Operations:Port must be between 1 and 65535.")]
    public int Port { get; set; } = 8081;

    /// <summary>Address the operations listener binds to; loopback unless an operator opens it.</summary>
    [Required, RegularExpression(@"^[0-9A-Fa-f:.]+$", ErrorMessage = "Gateway:Operations:BindAddress must be an IP address.")]
    public string BindAddress { get; set; } = "127.0.0.1";
}
