namespace Gateway.Load.Load;

/// <summary>One simulated device's connection to the gateway, over one transport.</summary>
internal interface IDeviceLink : IAsyncDisposable
{
    /// <summary>(Re)connects; false when the gateway cannot be reached or refused the connection.</summary>
    Task<bool> ConnectAsync(CancellationToken cancellationToken);

    /// <summary>Sends one message and waits for its acknowledgement, when the transport has one.</summary>
    Task<SendOutcome> SendAsync(MessageKey key, byte[] payload, CancellationToken cancellationToken);
}
