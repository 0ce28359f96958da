using System.Text;
using Gateway.Ingest.Http;

namespace Gateway.Tests.Http;

public sealed class TelemetryBodyParserTests
{
    [Fact]
    public void An_array_is_split_into_its_elements_without_copying_and_message_ids_are_read()
    {
        var body = Encoding.UTF8.GetBytes("""[ {"messageId":"a","v":{"messageId":"inner"}}, {"v":2}, 3 ]""");

        var (elements, error) = TelemetryBodyParser.Parse(body, 10);

        Assert.Null(error);
        Assert.Equal(["""{"messageId":"a","v":{"messageId":"inner"}}""", """{"v":2}""", "3"],
            elements!.Select(e => Encoding.UTF8.GetString(body, e.Start, e.Length)));
        Assert.Equal(["a", null, null], elements!.Select(e => e.DeviceMessageId));
    }

    [Fact]
    public void An_object_is_one_message()
    {
        var (elements, _) = TelemetryBodyParser.Parse("""{"t":1,"messageId":"x"}"""u8, 10);

        Assert.Equal("x", Assert.Single(elements!).DeviceMessageId);
    }

    [Theory]
    [InlineData("[]", "empty array")]
    [InlineData("", "empty")]
    [InlineData("{\"a\":1", "not valid JSON")]
    [InlineData("{} {}", "not valid JSON")]
    [InlineData("[1,2,3]", "more than 2 messages")]
    public void Bad_bodies_are_refused_with_the_reason(string body, string reason)
    {
        var (elements, error) = TelemetryBodyParser.Parse(Encoding.UTF8.GetBytes(body), 2);

        Assert.Null(elements);
        Assert.Contains(reason, error);
    }
}
