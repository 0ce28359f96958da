using Gateway.Devices;

namespace Gateway.Tests.Devices;

public sealed class DuplicateWindowTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static AcceptedMessage Stored(long sequence) => new($"gw:d:{sequence}", sequence, Duplicate: true);

    [Fact]
    public void A_remembered_id_returns_its_original()
    {
        var window = new DuplicateWindow(10, TimeSpan.FromMinutes(5));
        window.Remember("m1", Stored(1), Start);

        Assert.True(window.TryGet("m1", Start.AddMinutes(1), out var original));
        Assert.Equal(1, original.Sequence);
        Assert.False(window.TryGet("m2", Start.AddMinutes(1), out _));
    }

    [Fact]
    public void Ids_leave_the_window_by_age_and_by_count()
    {
        var window = new DuplicateWindow(2, TimeSpan.FromMinutes(5));
        window.Remember("m1", Stored(1), Start);
        window.Remember("m2", Stored(2), Start.AddMinutes(3));
        window.Remember("m3", Stored(3), Start.AddMinutes(4));

        Assert.False(window.TryGet("m1", Start.AddMinutes(4), out _));
        Assert.True(window.TryGet("m2", Start.AddMinutes(4), out _));
        Assert.False(window.TryGet("m2", Start.AddMinutes(9), out _));
        Assert.True(window.TryGet("m3", Start.AddMinutes(9), out _));
    }

    [Fact]
    public void A_forgotten_id_remembered_again_is_not_dropped_by_its_old_entry()
    {
        var window = new DuplicateWindow(2, TimeSpan.FromMinutes(5));
        window.Remember("m1", Stored(1), Start);
        window.Forget("m1");
        window.Remember("m1", Stored(5), Start);
        window.Remember("m2", Stored(6), Start);

        Assert.True(window.TryGet("m1", Start, out var original));
        Assert.Equal(5, original.Sequence);
        Assert.Equal(2, window.Count);
    }
}
