using Gateway.Partitions;
using Gateway.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Sinks;

/// <summary>
/// Holds whether an operator paused one sink, and tells the sink's partitions. A partition also asks on
/// activation, so a pause holds across restarts and on whichever silo the partition lands.
/// </summary>
public sealed partial class SinkControlGrain(
    [PersistentState("sink", StorageNames.Gateway)] IPersistentState<SinkControlState> state,
    IOptions<DeliveryOptions> deliveryOptions,
    ILogger<SinkControlGrain> logger) : Grain, ISinkControlGrain
{
    /// <inheritdoc />
    public Task PauseAsync() => SetPausedAsync(true);

    /// <inheritdoc />
    public Task ResumeAsync() => SetPausedAsync(false);

    /// <inheritdoc />
    public Task<bool> IsPausedAsync() => Task.FromResult(state.State.Paused);

    private async Task SetPausedAsync(bool paused)
    {
        if (state.State.Paused != paused)
        {
            // Stored before the partitions hear of it: a partition activated meanwhile reads the new value.
            state.State.Paused = paused;
            try
            {
                await state.WriteStateAsync();
            }
            catch
            {
                state.State.Paused = !paused;
                throw;
            }

            LogPausedChanged(logger, this.GetPrimaryKeyString(), paused);
        }

        var sink = this.GetPrimaryKeyString();
        var partitions = new List<Task>(deliveryOptions.Value.PartitionCount);
        for (var partition = 0; partition < deliveryOptions.Value.PartitionCount; partition++)
        {
            partitions.Add(GrainFactory.GetGrain<IPartitionGrain>(new PartitionKey(sink, partition).ToString()).SetPausedAsync(paused));
        }

        await Task.WhenAll(partitions);
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Information, Message = "Sink {Sink} paused: {Paused}")]
    private static partial void LogPausedChanged(ILogger logger, string sink, bool paused);
}

/// <summary>A sink's stored operator hold.</summary>
[GenerateSerializer, Alias("Gateway.SinkControlState")]
public sealed class SinkControlState
{
    /// <summary>True while the sink is paused.</summary>
    [Id(0)] public bool Paused { get; set; }
}
