using Gateway.Storage;

namespace Gateway.Tests.Grains;

/// <summary>A test grain whose reminder records each tick in its persisted state: proof that both live in SQLite.</summary>
[Alias("Gateway.Tests.IReminderProbeGrain")]
public interface IReminderProbeGrain : IGrainWithStringKey
{
    [Alias("StartAsync")]
    Task StartAsync(TimeSpan period);

    [Alias("GetTicksAsync")]
    Task<IReadOnlyList<DateTimeOffset>> GetTicksAsync();
}

[GenerateSerializer, Alias("Gateway.Tests.ReminderProbeState")]
public sealed class ReminderProbeState
{
    [Id(0)] public List<DateTimeOffset> Ticks { get; set; } = [];
}

public sealed class ReminderProbeGrain(
    [PersistentState("probe", StorageNames.Gateway)] IPersistentState<ReminderProbeState> state) : Grain, IReminderProbeGrain, IRemindable
{
    public async Task StartAsync(TimeSpan period) => await this.RegisterOrUpdateReminder("probe", period, period);

    public Task<IReadOnlyList<DateTimeOffset>> GetTicksAsync() => Task.FromResult<IReadOnlyList<DateTimeOffset>>(state.State.Ticks);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        state.State.Ticks.Add(DateTimeOffset.UtcNow);
        await state.WriteStateAsync();
    }
}
