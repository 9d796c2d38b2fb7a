using Microsoft.Extensions.Logging;

namespace Snapshotter.Rpc.Server;

/// <summary>Log messages of the gRPC layer (event ids 3000-3099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Error, Message = "gRPC handler for {Method} failed; answering {StatusCode}")]
    public static partial void HandlerFailed(ILogger logger, string method, StatusCode statusCode, Exception exception);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "gRPC call {Method} ended with {StatusCode}: {Detail}")]
    public static partial void CallFailed(ILogger logger, string method, StatusCode statusCode, string detail);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug, Message = "gRPC call {Method} could not send its status; the client is gone")]
    public static partial void StatusNotSent(ILogger logger, string method, Exception exception);
}
