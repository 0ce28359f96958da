using Gateway.Sinks;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Egress;

public sealed class SinkCircuitTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UnixEpoch);

    [Fact]
    public void It_opens_after_the_threshold_of_consecutive_failures_and_turns_callers_away_until_the_open_period_ends()
    {
        var circuit = new SinkCircuit(3, TimeSpan.FromSeconds(30), _clock);
        circuit.OnFailure();
        circuit.OnFailure();
        Assert.True(circuit.TryEnter(out _));

        circuit.OnFailure();

        Assert.Equal(CircuitState.Open, circuit.State);
        Assert.False(circuit.TryEnter(out var wait));
        Assert.Equal(TimeSpan.FromSeconds(30), wait);
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.False(circuit.TryEnter(out wait));
        Assert.Equal(TimeSpan.FromSeconds(20), wait);
    }

    [Fact]
    public void After_the_open_period_one_probe_goes_and_its_success_closes_the_circuit()
    {
        var circuit = new SinkCircuit(1, TimeSpan.FromSeconds(5), _clock);
        circuit.OnFailure();
        _clock.Advance(TimeSpan.FromSeconds(5));

        Assert.True(circuit.TryEnter(out _));
        Assert.Equal(CircuitState.HalfOpen, circuit.State);
        Assert.False(circuit.TryEnter(out _));

        circuit.OnSuccess();
        Assert.Equal(CircuitState.Closed, circuit.State);
        Assert.True(circuit.TryEnter(out _));
    }

    [Fact]
    public void A_failed_probe_opens_it_again_and_a_probe_with_nothing_to_send_passes_to_the_next_caller()
    {
        var circuit = new SinkCircuit(1, TimeSpan.FromSeconds(5), _clock);
        circuit.OnFailure();
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.True(circuit.TryEnter(out _));
        circuit.OnFailure();
        Assert.False(circuit.TryEnter(out var wait));
        Assert.Equal(TimeSpan.FromSeconds(5), wait);

        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.True(circuit.TryEnter(out _));
        circuit.OnNothingSent();
        Assert.True(circuit.TryEnter(out _));
    }

    [Fact]
    public void A_success_resets_the_failure_count()
    {
        var circuit = new SinkCircuit(2, TimeSpan.FromSeconds(5), _clock);
        circuit.OnFailure();
        circuit.OnSuccess();
        circuit.OnFailure();

        Assert.Equal(CircuitState.Closed, circuit.State);
    }
}
