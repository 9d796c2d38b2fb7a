using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Proto = Snapshotter.Containerd.Snapshots;

namespace Snapshotter.Services;

/// <summary>
/// Binds <see cref="SnapshotsService"/>'s methods exactly as the generated <c>Snapshots.BindService</c> describes them
/// (names, kinds, marshallers), with one change: a request that is not a valid protobuf message fails the call with
/// INTERNAL, as grpc-go's server answers, instead of Grpc.AspNetCore's UNKNOWN "Exception was thrown by handler" and an
/// error logged for what is the client's fault. It replaces Grpc.AspNetCore's default provider (see ServiceHost).
/// </summary>
internal sealed class SnapshotsMethodProvider : IServiceMethodProvider<SnapshotsService>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<SnapshotsService> context) =>
        Proto.Snapshots.BindService(new Binder(context), null);

    /// <summary>A request marshaller whose parse failures are a status, not an exception of the handler.</summary>
    private static Method<TRequest, TResponse> WithStrictRequests<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class
        where TResponse : class
    {
        var deserialize = method.RequestMarshaller.ContextualDeserializer;
        var requests = new Marshaller<TRequest>(method.RequestMarshaller.ContextualSerializer, context =>
        {
            try
            {
                return deserialize(context);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new RpcException(new Status(StatusCode.Internal, $"grpc: error unmarshalling request: {e.Message}"));
            }
        });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, requests, method.ResponseMarshaller);
    }

    /// <summary>The service's override of the method called <paramref name="name"/>, callable on any instance.</summary>
    private static TDelegate Invoker<TDelegate>(string name)
        where TDelegate : Delegate =>
        (typeof(SnapshotsService).GetMethod(name) ?? throw new InvalidOperationException($"SnapshotsService has no method {name}"))
            .CreateDelegate<TDelegate>();

    /// <summary>Receives the generated method descriptions (the handlers are null: instances come per call).</summary>
    private sealed class Binder(ServiceMethodProviderContext<SnapshotsService> context) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            context.AddUnaryMethod(WithStrictRequests(method), [], Invoker<UnaryServerMethod<SnapshotsService, TRequest, TResponse>>(method.Name));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddServerStreamingMethod(WithStrictRequests(method), [], Invoker<ServerStreamingServerMethod<SnapshotsService, TRequest, TResponse>>(method.Name));
    }
}
