namespace Snapshotter.Rpc.Server;

/// <summary>One registered method: reads its request, runs the handler, writes the response(s).</summary>
internal abstract class ServerMethod
{
    public abstract Task InvokeAsync(GrpcServerCall call);
}
