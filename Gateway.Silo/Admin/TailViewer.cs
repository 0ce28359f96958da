using System.Threading.Channels;
using Gateway.Routing;
using Gateway.Tail;
using Gateway.Telemetry;
using Orleans.Streams;

namespace Gateway.Silo.Admin;

/// <summary>
/// One live-tail viewer: subscribed to the accepted-message streams that can hold what it wants, it keeps the
/// matching messages in a bounded buffer. A viewer that reads too slowly loses messages (counted), never slows the
/// stream: delivery into the buffer never waits.
/// </summary>
internal sealed class TailViewer : IAsyncObserver<TailedMessage>, IAsyncDisposable
{
    private readonly Channel<TailedMessage> _buffer;
    private readonly string? _deviceId;
    private readonly TopicFilter? _topic;
    private readonly GatewayMetrics _metrics;
    private readonly List<StreamSubscriptionHandle<TailedMessage>> _subscriptions = [];
    private long _dropped;

    private TailViewer(int capacity, string? deviceId, TopicFilter? topic, GatewayMetrics metrics)
    {
        _buffer = Channel.CreateBounded<TailedMessage>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of waiting, which is what counts a drop
            SingleReader = true,
        });
        _deviceId = deviceId;
        _topic = topic;
        _metrics = metrics;
    }

    /// <summary>Messages waiting to be written to the viewer.</summary>
    public ChannelReader<TailedMessage> Messages => _buffer.Reader;

    /// <summary>Messages dropped so far because the buffer was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Subscribes a viewer to the streams of <paramref name="partitions"/>; returns once every subscription is in place.</summary>
    public static async Task<TailViewer> SubscribeAsync(
        IStreamProvider streams, IEnumerable<int> partitions, string? deviceId, TopicFilter? topic, int capacity, GatewayMetrics metrics)
    {
        var viewer = new TailViewer(capacity, deviceId, topic, metrics);
        try
        {
            foreach (var partition in partitions)
            {
                var stream = streams.GetStream<TailedMessage>(StreamId.Create(TailStreams.Namespace, partition));
                viewer._subscriptions.Add(await stream.SubscribeAsync(viewer));
            }
        }
        catch
        {
            await viewer.DisposeAsync();
            throw;
        }

        return viewer;
    }

    /// <inheritdoc />
    public Task OnNextAsync(TailedMessage item, StreamSequenceToken? token = null)
    {
        if ((_deviceId is null || item.DeviceId == _deviceId) && (_topic is null || _topic.Matches(item.Topic)) && !_buffer.Writer.TryWrite(item))
        {
            Interlocked.Increment(ref _dropped);
            _metrics.TailDropped(1);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task OnCompletedAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;

    /// <summary>Removes the subscriptions, so the stream stops carrying messages here.</summary>
    public async ValueTask DisposeAsync()
    {
        _buffer.Writer.TryComplete();
        foreach (var subscription in _subscriptions)
        {
            try
            {
                await subscription.UnsubscribeAsync();
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                // The viewer is gone either way; a subscription left behind is removed by the stream when delivery to it fails.
            }
        }

        _subscriptions.Clear();
    }
}
