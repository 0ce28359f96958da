using System.Text;
using Gateway.Sinks;
using Gateway.Tests.Infrastructure;
using Gateway.Wal;

namespace Gateway.Tests.Sinks;

public sealed class FileSinkTests
{
    private static WalRecord Record(long sequence, string payload, string contentType = MediaTypes.Json) => new()
    {
        DeliveryId = sequence,
        MessageId = $"gw:d:{sequence}",
        DeviceId = "d",
        Sequence = sequence,
        ReceivedAt = DateTimeOffset.UnixEpoch,
        ContentType = contentType,
        Payload = Encoding.UTF8.GetBytes(payload),
        Topic = "devices/d/telemetry",
    };

    [Fact]
    public async Task Batches_are_appended_as_ndjson_and_a_new_file_starts_when_the_size_limit_would_be_passed()
    {
        using var directory = new TempDirectory();
        using var sink = new FileSink("file", directory.Path, maxFileBytes: 1024);

        for (var batch = 0; batch < 10; batch++)
        {
            var records = Enumerable.Range(batch * 5, 5).Select(n => Record(n, $$"""{"n":{{n}}}""")).ToList();
            Assert.Equal(DeliveryOutcome.Delivered, (await sink.DeliverAsync(records, CancellationToken.None)).Outcome);
        }

        var files = Directory.GetFiles(directory.Path, "*.ndjson");
        Assert.True(files.Length > 1, "the sink never rotated");
        Assert.All(files, file => Assert.InRange(new FileInfo(file).Length, 1, 1024));
        Assert.Equal(Enumerable.Range(0, 50).Select(n => (long)n), SinkFiles.Read(directory.Path).Select(line => line.Sequence));
    }

    [Fact]
    public async Task Json_payloads_are_embedded_and_others_carried_as_base64()
    {
        using var directory = new TempDirectory();
        using var sink = new FileSink("file", directory.Path, maxFileBytes: 1024 * 1024);

        await sink.DeliverAsync([Record(1, """{"t":[1,2]}"""), Record(2, "raw\n", MediaTypes.OctetStream)], CancellationToken.None);

        var lines = SinkFiles.Read(directory.Path);
        Assert.Equal("[1,2]", lines[0].Line.GetProperty("payload").GetProperty("t").GetRawText());
        Assert.Equal("raw\n"u8.ToArray(), lines[1].Line.GetProperty("payloadBase64").GetBytesFromBase64());
    }

    [Fact]
    public async Task Each_start_writes_to_a_new_file_so_a_torn_line_can_only_end_a_file()
    {
        using var directory = new TempDirectory();
        using (var first = new FileSink("file", directory.Path, maxFileBytes: 1024 * 1024))
        {
            await first.DeliverAsync([Record(1, "{}")], CancellationToken.None);
        }

        using var second = new FileSink("file", directory.Path, maxFileBytes: 1024 * 1024);
        await second.DeliverAsync([Record(2, "{}")], CancellationToken.None);

        Assert.Equal(2, Directory.GetFiles(directory.Path, "*.ndjson").Length);
    }

    [Fact]
    public async Task Batches_that_partitions_deliver_together_share_a_write_and_each_lands_whole()
    {
        using var directory = new TempDirectory();
        using var sink = new FileSink("file", directory.Path, maxFileBytes: 64 * 1024 * 1024);
        const int batches = 16, perBatch = 20;
        // The first batch is large, so its synced write is still running while the others arrive behind it.
        var padding = new string('x', 64 * 1024);
        string Payload(int batch, int n) => batch == 0 ? $$"""{"pad":"{{padding}}"}""" : $$"""{"n":{{n}}}""";
        var deliveries = Enumerable.Range(0, batches)
            .Select(batch => sink.DeliverAsync(
                Enumerable.Range(batch * perBatch, perBatch).Select(n => Record(n, Payload(batch, n))).ToList(), CancellationToken.None))
            .ToList();

        var results = await Task.WhenAll(deliveries);

        Assert.All(results, result => Assert.Equal(DeliveryOutcome.Delivered, result.Outcome));
        Assert.True(sink.Writes < batches, $"{sink.Writes} writes for {batches} batches delivered together");
        var sequences = SinkFiles.Read(directory.Path).Select(line => line.Sequence).ToList();
        Assert.Equal(batches * perBatch, sequences.Count);
        // Each batch's lines are contiguous and in order, whichever write carried it.
        for (var i = 0; i < sequences.Count; i += perBatch)
        {
            var first = sequences[i];
            Assert.Equal(0, first % perBatch);
            Assert.Equal(Enumerable.Range(0, perBatch).Select(n => first + n), sequences.Skip(i).Take(perBatch));
        }
    }
}
