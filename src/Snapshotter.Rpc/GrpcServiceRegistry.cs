using Google.Protobuf;
using Snapshotter.Rpc.Server;

namespace Snapshotter.Rpc;

/// <summary>
/// The table of gRPC methods served by <see cref="GrpcEndpointRouteBuilderExtensions.MapGrpcServices"/>.
/// Knows nothing about any particular service: each method is a path plus a parser and a handler.
/// </summary>
public sealed class GrpcServiceRegistry
{
    private readonly Dictionary<string, ServerMethod> _methods = new(StringComparer.Ordinal);

    /// <summary>Registers a unary method.</summary>
    /// <param name="path">The method path, <c>/package.Service/Method</c>.</param>
    /// <param name="parser">Parser of the request message.</param>
    /// <param name="handler">Returns the single response; throws <see cref="RpcException"/> to fail the call with a status.</param>
    /// <returns>This registry, for chaining.</returns>
    public GrpcServiceRegistry AddUnary<TRequest, TResponse>(string path, MessageParser<TRequest> parser, Func<TRequest, ServerCallContext, Task<TResponse>> handler)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(parser);
        ArgumentNullException.ThrowIfNull(handler);
        Add(path, new UnaryServerMethod<TRequest, TResponse>(parser, handler));
        return this;
    }

    /// <summary>Registers a server-streaming method.</summary>
    /// <param name="path">The method path, <c>/package.Service/Method</c>.</param>
    /// <param name="parser">Parser of the request message.</param>
    /// <param name="handler">Writes zero or more responses; throws <see cref="RpcException"/> to end the stream with a status.</param>
    /// <returns>This registry, for chaining.</returns>
    public GrpcServiceRegistry AddServerStreaming<TRequest, TResponse>(string path, MessageParser<TRequest> parser, Func<TRequest, IServerStreamWriter<TResponse>, ServerCallContext, Task> handler)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(parser);
        ArgumentNullException.ThrowIfNull(handler);
        Add(path, new ServerStreamingServerMethod<TRequest, TResponse>(parser, handler));
        return this;
    }

    internal bool TryGetMethod(string path, out ServerMethod method) => _methods.TryGetValue(path, out method!);

    private void Add(string path, ServerMethod method)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path[0] != '/' || path.IndexOf('/', 1) <= 1 || path.EndsWith('/'))
        {
            throw new ArgumentException($"gRPC method path must look like /package.Service/Method, got '{path}'.", nameof(path));
        }

        if (!_methods.TryAdd(path, method))
        {
            throw new ArgumentException($"gRPC method '{path}' is already registered.", nameof(path));
        }
    }
}
