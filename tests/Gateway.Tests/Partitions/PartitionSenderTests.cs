using System.Reflection;
using Gateway.Lanes;
using Gateway.Partitions;
using Gateway.Sinks;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Wal;
using Gateway.Wal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Partitions;

/// <summary>
/// The send loop on its own: a real SQLite WAL, a scripted sink, the grain's timer replaced by <see cref="TimerHost"/>
/// and the clock by a <see cref="FakeTimeProvider"/>, so every state change is driven and checked step by step.
/// </summary>
public sealed class PartitionSenderTests : IDisposable
{
    private static readonly PartitionKey Key = new("cloud", 3);
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(500);

    private readonly IWalUnderTest _wal = new SqliteWalUnderTest();

    // 100 ms past a linger tick, so the next tick is 400 ms away.
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(DateTimeOffset.UtcNow.UtcTicks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero).AddMilliseconds(100));
    private readonly TimerHost _host = new();
    private readonly ScriptedSink _sink = new();
    private readonly DeliveryOptions _options = new() { Linger = Linger, BatchSize = 3, BackoffBase = TimeSpan.FromSeconds(1), BackoffCap = TimeSpan.FromSeconds(8), SendTimeout = TimeSpan.FromSeconds(30) };
    private readonly SinkCircuit _circuit;
    private readonly BackingOffPartitions _backingOff = new();
    private long _nextSequence = 1;

    public PartitionSenderTests() => _circuit = new SinkCircuit(failureThreshold: 2, openDuration: TimeSpan.FromSeconds(20), _clock);

    public void Dispose() => _wal.Dispose();

    [Fact]
    public async Task A_wake_sends_at_the_next_linger_tick_and_the_partition_goes_idle_when_the_batch_was_not_full()
    {
        var sender = NewSender();
        await AppendAsync(2);

        sender.Wake();

        Assert.Equal(PartitionSendState.Scheduled, sender.State);
        Assert.Equal(TimeSpan.FromMilliseconds(400), _host.Due);
        await FireAsync(sender);
        Assert.Equal("1,2", _sink.Sent);
        Assert.Equal(PartitionSendState.Idle, sender.State);
        Assert.Null(_host.Due);
        Assert.Equal(0, _wal.CountDeliveries(Key.Sink, DeliveryState.Enqueued));
        Assert.Equal(1, _host.ReminderKeeps);
    }

    [Fact]
    public async Task A_full_batch_sends_the_next_at_once()
    {
        var sender = NewSender();
        await AppendAsync(4);
        sender.Start();

        await FireAsync(sender);

        Assert.Equal(PartitionSendState.Scheduled, sender.State);
        Assert.Equal(TimeSpan.Zero, _host.Due);
        await FireAsync(sender);
        Assert.Equal("1,2,3 | 4", _sink.Sent);
        Assert.Equal(PartitionSendState.Idle, sender.State);
    }

    [Fact]
    public async Task A_failed_batch_backs_off_ignores_wakes_and_is_retried_whole_at_the_backoff()
    {
        var sender = NewSender();
        await AppendAsync(2);
        sender.Start();
        _sink.Next(DeliveryResult.Retry("503 from the cloud"));

        await FireAsync(sender);

        Assert.Equal(PartitionSendState.BackingOff, sender.State);
        var backoff = _host.Due!.Value;
        Assert.InRange(backoff, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1));
        Assert.Equal(_clock.GetUtcNow() + backoff, sender.Status.NextAttemptAt);
        Assert.Equal(1, sender.Status.ConsecutiveFailures);
        Assert.Equal("503 from the cloud", sender.Status.LastError);
        Assert.Equal(1, _backingOff.FailingPartitions(Key.Sink));

        // New records arrive during the backoff: the wake does not bring the retry forward, and the retry is the same batch.
        await AppendAsync(1);
        sender.Wake();
        Assert.Equal(backoff, _host.Due);
        await FireAsync(sender);

        Assert.Equal("1,2 | 1,2", _sink.Sent);
        Assert.Equal(_sink.Batches[0].Select(record => record.DeliveryId), _sink.Batches[1].Select(record => record.DeliveryId));
        Assert.Equal(0, sender.Status.ConsecutiveFailures);
        Assert.Equal(0, _backingOff.FailingPartitions(Key.Sink));
        Assert.Equal(PartitionSendState.Scheduled, sender.State);
        await FireAsync(sender);
        Assert.Equal("1,2 | 1,2 | 3", _sink.Sent);
    }

    [Fact]
    public async Task An_open_circuit_is_waited_out_without_leasing_and_a_closing_circuit_sends_at_once()
    {
        var sender = NewSender();
        await AppendAsync(1);
        sender.Start();
        _sink.Next(DeliveryResult.Retry("down"), DeliveryResult.Retry("down"));
        await FireAsync(sender);
        await FireAsync(sender);
        Assert.Equal(CircuitState.Open, _circuit.State);

        // The retry comes due while the circuit is open: the partition waits on it and sends nothing.
        await FireAsync(sender);

        Assert.Equal(PartitionSendState.WaitingForCircuit, sender.State);
        Assert.Equal(2, _sink.Batches.Count);
        Assert.InRange(sender.DueAt!.Value - _clock.GetUtcNow(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20.25));
        sender.Wake();
        Assert.Equal(PartitionSendState.WaitingForCircuit, sender.State);

        _circuit.OnSuccess();
        sender.CircuitClosed();

        Assert.Equal(PartitionSendState.Scheduled, sender.State);
        Assert.Equal(TimeSpan.Zero, _host.Due);
        await FireAsync(sender);
        Assert.Equal("1 | 1 | 1", _sink.Sent);
        // The retry batch (one record) was full, so the partition looks once more and finds nothing.
        await FireAsync(sender);
        Assert.Equal(PartitionSendState.Idle, sender.State);
    }

    [Fact]
    public async Task The_probe_that_closes_an_open_circuit_wakes_the_sinks_other_partitions()
    {
        var sender = NewSender();
        await AppendAsync(1);
        _circuit.OnFailure();
        _circuit.OnFailure();
        sender.Start();
        await FireAsync(sender);
        Assert.Equal(PartitionSendState.WaitingForCircuit, sender.State);

        // The open period ends: this partition's send is the probe, and it succeeds.
        await FireAsync(sender);

        Assert.Single(_sink.Batches);
        Assert.Equal(CircuitState.Closed, _circuit.State);
        Assert.Equal(1, _host.SiblingWakes);
    }

    [Fact]
    public async Task A_pause_during_a_send_lets_the_batch_finish_and_leases_nothing_more_until_the_resume()
    {
        var sender = NewSender();
        await AppendAsync(5);
        sender.Start();
        var held = _sink.Hold();

        var sending = FireAsync(sender);
        await _sink.ReceivedAsync(1);
        Assert.Equal(PartitionSendState.Sending, sender.State);
        sender.SetPaused(true);
        Assert.Equal(PartitionSendState.Sending, sender.State);
        held.SetResult(DeliveryResult.Delivered);
        await sending;

        Assert.Equal(PartitionSendState.Paused, sender.State);
        Assert.True(sender.Status.Paused);
        Assert.Equal(2, _wal.CountDeliveries(Key.Sink, DeliveryState.Enqueued));
        // The full batch had scheduled the next send; it comes due and does nothing while paused.
        await FireAsync(sender);
        Assert.Single(_sink.Batches);

        sender.SetPaused(false);

        Assert.Equal(PartitionSendState.Scheduled, sender.State);
        await FireAsync(sender);
        Assert.Equal("1,2,3 | 4,5", _sink.Sent);
    }

    [Fact]
    public async Task A_resume_that_was_never_paused_changes_nothing()
    {
        var sender = NewSender();
        await AppendAsync(1);
        sender.Start();
        _sink.Next(DeliveryResult.Retry("down"));
        await FireAsync(sender);
        var retryAt = sender.DueAt;

        sender.SetPaused(false);

        Assert.Equal(PartitionSendState.BackingOff, sender.State);
        Assert.Equal(retryAt, sender.DueAt);
    }

    [Fact]
    public async Task A_wake_during_a_send_looks_again_at_the_next_tick()
    {
        var sender = NewSender();
        await AppendAsync(1);
        sender.Start();
        var held = _sink.Hold();

        var sending = FireAsync(sender);
        await _sink.ReceivedAsync(1);
        await AppendAsync(1);
        sender.Wake();
        held.SetResult(DeliveryResult.Delivered);
        await sending;

        Assert.Equal(PartitionSendState.Scheduled, sender.State);
        Assert.Equal(LingerGrid.UntilNextTick(_clock.GetUtcNow(), Linger), _host.Due);
        await FireAsync(sender);
        Assert.Equal("1 | 2", _sink.Sent);
    }

    [Fact]
    public async Task A_sink_that_never_answers_fails_the_batch_at_the_send_timeout_on_the_partitions_clock()
    {
        var sender = NewSender();
        await AppendAsync(1);
        sender.Start();
        _sink.Hold();

        var sending = FireAsync(sender);
        await _sink.ReceivedAsync(1);
        Assert.False(sending.IsCompleted);
        _clock.Advance(_options.SendTimeout);
        await sending;

        Assert.Equal(PartitionSendState.BackingOff, sender.State);
        Assert.Equal("The sink did not answer within 00:00:30.", sender.Status.LastError);
        Assert.Equal(1, _wal.Scalar("SELECT attempts FROM wal_delivery"));
    }

    [Fact]
    public async Task A_batch_the_sink_refuses_for_good_is_dead_lettered_and_the_records_behind_it_go_next()
    {
        var sender = NewSender();
        await AppendAsync(4);
        sender.Start();
        _sink.Next(DeliveryResult.Permanent("400 malformed"));

        await FireAsync(sender);

        Assert.Equal(3, sender.Status.DeadLettered);
        Assert.Equal(3, _wal.CountDeliveries(Key.Sink, DeliveryState.Dead));
        Assert.Equal(PartitionSendState.Scheduled, sender.State);
        Assert.Equal(TimeSpan.Zero, _host.Due);
        Assert.Equal(0, _backingOff.FailingPartitions(Key.Sink));
        await FireAsync(sender);
        Assert.Equal("1,2,3 | 4", _sink.Sent);
    }

    [Fact]
    public async Task A_wal_that_fails_an_ack_backs_off_and_returns_the_unsettled_lease_to_the_head_before_the_retry()
    {
        var log = FaultyLog.Over(_wal.Store);
        var sender = NewSender(log);
        await AppendAsync(2);
        sender.Start();
        ((FaultyLog)(object)log).FailNext(nameof(IDeliveryLog.AckAsync));

        await FireAsync(sender);

        Assert.Equal(PartitionSendState.BackingOff, sender.State);
        Assert.Contains("disk I/O error", sender.Status.LastError);
        await FireAsync(sender);
        Assert.Equal("1,2 | 1,2", _sink.Sent);
        Assert.Equal(0, _wal.CountDeliveries(Key.Sink, DeliveryState.Enqueued));
        Assert.Equal(PartitionSendState.Idle, sender.State);
    }

    [Fact]
    public async Task A_sender_that_starts_paused_sends_nothing_until_resumed()
    {
        var sender = NewSender(paused: true);
        await AppendAsync(1);
        sender.Start();
        sender.Wake();

        Assert.Equal(PartitionSendState.Paused, sender.State);
        Assert.Null(_host.Due);
        sender.SetPaused(false);
        await FireAsync(sender);
        Assert.Single(_sink.Batches);
    }

    [Fact]
    public async Task A_circuit_that_closes_cuts_a_backoff_short_so_every_partition_resumes_with_the_sink()
    {
        var sender = NewSender();
        await AppendAsync(1);
        sender.Start();
        _sink.Next(DeliveryResult.Retry("down"));
        await FireAsync(sender);
        Assert.Equal(PartitionSendState.BackingOff, sender.State);

        sender.CircuitClosed();

        Assert.Equal(PartitionSendState.Scheduled, sender.State);
        Assert.Equal(TimeSpan.Zero, _host.Due);
        await FireAsync(sender);
        Assert.Equal("1 | 1", _sink.Sent);
    }

    [Fact]
    public async Task With_lanes_a_partition_alone_with_its_lanes_sends_them_in_one_batch_in_lease_order()
    {
        var sender = NewSender(laneGate: Gate());
        await AppendAsync(1, Bulk);
        await AppendAsync(1, Critical);
        sender.Start();

        await FireAsync(sender);

        Assert.Equal("2,1", _sink.Sent);
        Assert.Equal(PartitionSendState.Idle, sender.State);
    }

    [Fact]
    public async Task With_lanes_a_partition_sends_no_lower_lane_than_another_partition_waits_to_send()
    {
        var sender = NewSender(laneGate: Gate());
        var other = new PartitionKey(Key.Sink, 5);
        await AppendAsync(2, Bulk);
        await AppendAsync(1, Critical);
        await _wal.Store.AppendAsync(WalFixture.Append("alarm-1", 1, 1, other, Critical));
        sender.Start();

        await FireAsync(sender);
        Assert.Equal("3", _sink.Sent);
        Assert.Equal(TimeSpan.Zero, _host.Due);
        await FireAsync(sender);
        Assert.Equal(PartitionSender.HeldBackRecheck, _host.Due);

        await _wal.Store.AckAsync(await _wal.Store.LeaseAsync(other, 10));
        await FireAsync(sender);
        Assert.Equal("3 | 1,2", _sink.Sent);
    }

    [Fact]
    public async Task With_lanes_a_partition_holds_its_bulk_back_while_another_partition_of_the_sink_has_alarms_to_send()
    {
        var sender = NewSender(laneGate: Gate());
        var other = new PartitionKey(Key.Sink, 5);
        await AppendAsync(2, Bulk);
        await _wal.Store.AppendAsync(WalFixture.Append("alarm-1", 1, 1, other, Critical));
        sender.Start();

        await FireAsync(sender);

        Assert.Empty(_sink.Batches);
        Assert.Equal(PartitionSendState.Scheduled, sender.State);
        Assert.Equal(PartitionSender.HeldBackRecheck, _host.Due);
        await _wal.Store.AckAsync(await _wal.Store.LeaseAsync(other, 10));
        await FireAsync(sender);
        Assert.Equal("1,2", _sink.Sent);
    }

    [Fact]
    public async Task A_partition_held_back_by_a_higher_lane_that_does_not_move_sends_a_batch_of_its_own_after_the_hold_limit()
    {
        var sender = NewSender(laneGate: Gate());
        await AppendAsync(4, Bulk);
        await _wal.Store.AppendAsync(WalFixture.Append("alarm-1", 1, 1, new PartitionKey(Key.Sink, 5), Critical));
        sender.Start();

        var held = TimeSpan.Zero;
        while (_sink.Batches.Count == 0)
        {
            held += _host.Due!.Value;
            await FireAsync(sender);
        }

        Assert.InRange(held, LaneGate.HoldLimit, LaneGate.HoldLimit + PartitionSender.HeldBackRecheck);
        Assert.Equal("1,2,3", _sink.Sent);
        Assert.Equal(TimeSpan.Zero, _host.Due);
        await FireAsync(sender);
        Assert.Equal(PartitionSender.HeldBackRecheck, _host.Due);
    }

    private const int Critical = 0;
    private const int Bulk = 9;

    private LaneGate Gate() => LaneGate.For(
        new LaneCatalog([
            new Lane(new LaneOptions { Name = "critical", Priority = Critical, Topics = ["devices/+/telemetry/alarms"] }),
            new Lane(new LaneOptions { Name = "bulk", Priority = Bulk }),
        ]),
        _wal.Store, Key, partitionCount: 8, _clock);

    private PartitionSender NewSender(IDeliveryLog? log = null, bool paused = false, LaneGate? laneGate = null) =>
        new(Key, _sink, _circuit, log ?? _wal.Store, _host, leaseholder: 7, paused, _options,
            new RetryBackoff(_options.BackoffBase, _options.BackoffCap, new Random(1)), _backingOff, laneGate ?? LaneGate.Open,
            WalFixture.NewMetrics(), _clock, NullLogger.Instance);

    private Task AppendAsync(int count, int lane = Lane.DefaultPriority)
    {
        var first = _nextSequence;
        _nextSequence += count;
        return _wal.Store.AppendAsync(WalFixture.Append("pump-1", first, count, Key, lane));
    }

    /// <summary>Lets the clock reach the scheduled send and runs it, as the grain's timer would.</summary>
    private Task FireAsync(PartitionSender sender)
    {
        var due = _host.Due ?? throw new InvalidOperationException("Nothing is scheduled.");
        _host.Due = null;
        _clock.Advance(due);
        return sender.SendDueAsync(CancellationToken.None);
    }

    /// <summary>The grain's side: one timer (the last schedule wins), the reminder, the sibling partitions.</summary>
    private sealed class TimerHost : IPartitionSenderHost
    {
        public TimeSpan? Due { get; set; }

        public int ReminderKeeps { get; private set; }

        public int SiblingWakes { get; private set; }

        public void ScheduleSend(TimeSpan dueTime) => Due = dueTime;

        public Task KeepReminderAsync()
        {
            ReminderKeeps++;
            return Task.CompletedTask;
        }

        public void WakeSiblings() => SiblingWakes++;
    }

    /// <summary>A sink that answers as scripted (delivered when nothing is), or holds a batch until the test answers.</summary>
    private sealed class ScriptedSink : ISink
    {
        private readonly Queue<DeliveryResult> _answers = new();
        private TaskCompletionSource<DeliveryResult>? _held;

        public string Name => Key.Sink;

        public List<IReadOnlyList<WalRecord>> Batches { get; } = [];

        /// <summary>The device sequences of each batch received, batches apart by " | ".</summary>
        public string Sent => string.Join(" | ", Batches.Select(batch => string.Join(",", batch.Select(record => record.Sequence))));

        /// <summary>Completes once the sink holds <paramref name="count"/> batches.</summary>
        public Task ReceivedAsync(int count) => Eventually.TrueAsync(() => Batches.Count >= count, $"batch {count} at the sink");

        public void Next(params DeliveryResult[] answers)
        {
            foreach (var answer in answers)
            {
                _answers.Enqueue(answer);
            }
        }

        public TaskCompletionSource<DeliveryResult> Hold() => _held = new TaskCompletionSource<DeliveryResult>(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<DeliveryResult> DeliverAsync(IReadOnlyList<WalRecord> batch, CancellationToken cancellationToken)
        {
            lock (Batches)
            {
                Batches.Add(batch);
            }

            if (_held is { } held)
            {
                _held = null;
                return await held.Task.WaitAsync(cancellationToken);
            }

            return _answers.TryDequeue(out var answer) ? answer : DeliveryResult.Delivered;
        }
    }

    /// <summary>The real WAL, except that the next call of a chosen member fails as a broken disk would.</summary>
    public class FaultyLog : DispatchProxy
    {
        private IDeliveryLog _inner = null!;
        private string? _failNext;

        public static IDeliveryLog Over(IDeliveryLog inner)
        {
            var log = Create<IDeliveryLog, FaultyLog>();
            ((FaultyLog)(object)log)._inner = inner;
            return log;
        }

        public void FailNext(string member) => _failNext = member;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == _failNext)
            {
                _failNext = null;
                return Task.FromException(new IOException("disk I/O error"));
            }

            return targetMethod.Invoke(_inner, args);
        }
    }
}
