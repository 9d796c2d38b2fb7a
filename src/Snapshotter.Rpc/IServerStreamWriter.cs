namespace Snapshotter.Rpc;

/// <summary>Writes the messages of a server-streaming response. Calls must not overlap.</summary>
/// <typeparam name="T">The response message type.</typeparam>
public interface IServerStreamWriter<in T>
{
    /// <summary>Sends one message to the client (flushed before the returned task completes).</summary>
    ValueTask WriteAsync(T message, CancellationToken cancellationToken = default);
}
