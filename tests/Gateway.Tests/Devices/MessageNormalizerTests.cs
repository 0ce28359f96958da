using System.Text;
using Gateway.Devices;

namespace Gateway.Tests.Devices;

public sealed class MessageNormalizerTests
{
    private static (RefusalReason Refusal, string? Detail, string ContentType) Normalize(string payload, string? contentType, int max = 1024) =>
        MessageNormalizer.Normalize(new IncomingMessage(Encoding.UTF8.GetBytes(payload), contentType, null, null, "test", "devices/test/telemetry"), max);

    [Theory]
    [InlineData("""{"t":1}""", null, "application/json")]
    [InlineData(""" [1,2] """, null, "application/json")]
    [InlineData("21.5", null, "application/octet-stream")]
    [InlineData("{not json", null, "application/octet-stream")]
    [InlineData("""{"t":1}""", "application/json; charset=utf-8", "application/json")]
    [InlineData("""{"t":1}""", "application/vnd.acme+json", "application/json")]
    [InlineData("raw bytes", "Text/Plain", "text/plain")]
    public void Media_type_is_detected_or_normalized(string payload, string? declared, string stored)
    {
        var (refusal, _, contentType) = Normalize(payload, declared);

        Assert.Equal(RefusalReason.None, refusal);
        Assert.Equal(stored, contentType);
    }

    [Theory]
    [InlineData("{\"t\":", "application/json")]
    [InlineData("", "application/json")]
    [InlineData("{} {}", "application/json")]
    public void Declared_json_that_does_not_parse_is_refused(string payload, string declared)
    {
        var (refusal, detail, _) = Normalize(payload, declared);

        Assert.Equal(RefusalReason.MalformedJson, refusal);
        Assert.Contains("not valid JSON", detail);
    }

    [Fact]
    public void Json_nested_deeper_than_64_levels_is_refused()
    {
        var deep = new string('[', 100) + new string(']', 100);

        Assert.Equal(RefusalReason.MalformedJson, Normalize(deep, "application/json").Refusal);
    }

    [Fact]
    public void A_payload_over_the_limit_is_refused_with_both_sizes()
    {
        var (refusal, detail, _) = Normalize(new string('x', 11), null, max: 10);

        Assert.Equal(RefusalReason.PayloadTooLarge, refusal);
        Assert.Contains("11", detail);
        Assert.Contains("10", detail);
    }
}
