using Gateway.Load.Check;
using Gateway.Load.Load;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Proof;

/// <summary>The checker behind the chaos run: it must catch every way a sink can betray an acknowledgement.</summary>
public sealed class DeliveryCheckTests
{
    private static CheckResult Check(IEnumerable<(string Device, long Number)> acknowledged, IEnumerable<(string Device, long Number)> received)
    {
        var check = new DeliveryCheck();
        foreach (var (device, number) in acknowledged)
        {
            check.Acknowledged(new MessageKey(device, number));
        }

        foreach (var (device, number) in received)
        {
            check.Received(new MessageKey(device, number));
        }

        return check.Result();
    }

    private static IEnumerable<(string, long)> Numbers(string device, params long[] numbers) => numbers.Select(number => (device, number));

    [Fact]
    public void Everything_received_once_in_order_passes()
    {
        var result = Check(Numbers("a", 1, 2, 3).Concat(Numbers("b", 1, 2)), Numbers("b", 1).Concat(Numbers("a", 1, 2)).Concat(Numbers("b", 2)).Concat(Numbers("a", 3)));

        Assert.True(result.Passed, result.Describe());
        Assert.Equal((5, 5, 0, 0, 0), (result.Acknowledged, result.Received, result.Missing, result.Duplicates, result.OutOfOrder));
    }

    [Fact]
    public void An_acknowledged_message_the_sink_never_got_is_missing_and_fails()
    {
        var result = Check(Numbers("a", 1, 2, 3), Numbers("a", 1, 3));

        Assert.False(result.Passed);
        Assert.Equal(1, result.Missing);
        Assert.Equal(["a 2"], result.MissingExamples);
    }

    [Fact]
    public void A_message_received_twice_is_a_duplicate_and_still_passes()
    {
        var result = Check(Numbers("a", 1, 2), Numbers("a", 1, 2, 2));

        Assert.True(result.Passed, result.Describe());
        Assert.Equal(1, result.Duplicates);
    }

    [Fact]
    public void A_later_message_received_before_an_earlier_one_of_the_same_device_fails()
    {
        var result = Check(Numbers("a", 1, 2, 3), Numbers("a", 1, 3, 2));

        Assert.False(result.Passed);
        Assert.Equal(1, result.OutOfOrder);
        Assert.Equal(0, result.Missing);
        Assert.Equal(["a: 2 after 3"], result.OrderExamples);
    }

    [Fact]
    public void A_redelivered_run_after_a_crash_is_duplicates_not_disorder()
    {
        // A partition that crashed mid-send sends its in-flight batch again: 5, 6, 7 arrive twice, in order.
        var result = Check(Numbers("a", 5, 6, 7, 8), Numbers("a", 5, 6, 7, 5, 6, 7, 8));

        Assert.True(result.Passed, result.Describe());
        Assert.Equal(3, result.Duplicates);
        Assert.Equal(0, result.OutOfOrder);
    }

    [Fact]
    public void Devices_of_other_runs_are_ignored_and_unacknowledged_deliveries_are_counted()
    {
        var result = Check(Numbers("a", 1), Numbers("other", 2, 1).Concat(Numbers("a", 1, 2)));

        Assert.True(result.Passed, result.Describe());
        Assert.Equal(2, result.Received);
        Assert.Equal(1, result.UnacknowledgedDelivered);
    }

    [Fact]
    public void Files_are_read_with_torn_lines_counted_and_folders_in_name_order()
    {
        using var folder = new TempDirectory();
        var acked = folder.Combine("acked.txt");
        File.WriteAllLines(acked, ["dev-1 1", "dev-1 2", "dev-1 3", "torn"]);
        var sink = Directory.CreateDirectory(folder.Combine("sink")).FullName;
        // The first file was cut by a crash mid-line; the second is the restarted gateway's, redelivering 2.
        File.WriteAllText(Path.Combine(sink, "file-20260101T000000000-1-0000.ndjson"),
            SinkLine("dev-1", 1) + SinkLine("dev-1", 2) + """{"deviceId":"dev-1","payl""");
        File.WriteAllText(Path.Combine(sink, "file-20260101T000001000-2-0000.ndjson"), SinkLine("dev-1", 2) + SinkLine("dev-1", 3));

        var check = new DeliveryCheck();
        AcknowledgedIds.Read(acked, check);
        foreach (var file in SinkRecords.Files(sink))
        {
            SinkRecords.Read(file, check);
        }

        var result = check.Result();
        Assert.True(result.Passed, result.Describe());
        Assert.Equal((3, 4, 1, 1), (result.Acknowledged, result.Received, result.Duplicates, result.Unreadable));
    }

    [Fact]
    public void Payload_written_by_the_load_generator_is_what_the_checker_reads_back()
    {
        var key = new MessageKey("dev-7", 42);
        var payload = System.Text.Encoding.UTF8.GetString(new TelemetryPayload(200).Create(key));
        var line = $$$"""{"messageId":"gateway:dev-7:1","deviceId":"dev-7","sequence":1,"payload":{{{payload}}}}""";

        Assert.Equal(200, payload.Length);
        Assert.Equal(key, SinkRecords.Parse(line));
        Assert.Equal(key, MessageKey.FromLine(key.ToLine()));
    }

    private static string SinkLine(string device, long number) =>
        $$$"""{"messageId":"gateway:{{{device}}}:{{{number}}}","deviceId":"{{{device}}}","sequence":{{{number}}},"payload":{"messageId":"{{{device}}}-{{{number}}}","n":{{{number}}},"pad":""}}""" + "\n";
}
