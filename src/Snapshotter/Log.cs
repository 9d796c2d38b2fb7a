using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Snapshotter;

/// <summary>Log messages of the host (event ids 1000-1099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "snapshotter listening on {Address} (root {Root})")]
    public static partial void Listening(ILogger logger, string address, string root);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "shutting down: waiting up to {Seconds} s for in-flight calls")]
    public static partial void ShuttingDown(ILogger logger, int seconds);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "stopped; removed socket {Address}")]
    public static partial void Stopped(ILogger logger, string address);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "replacing stale socket {Address} left by a previous run")]
    public static partial void ReplacingStaleSocket(ILogger logger, string address);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "call {Method} failed unexpectedly")]
    public static partial void UnexpectedFailure(ILogger logger, string method, Exception exception);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "unmounting {MountPoint} after {Reads} READs and {FetchedBytes} bytes fetched")]
    public static partial void Unmounting(ILogger logger, string mountPoint, long reads, long fetchedBytes);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "lazy pulling is off ({Reason}): every layer is unpacked the ordinary way")]
    public static partial void LazyOff(ILogger logger, string reason);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "metrics at {Addresses} (/metrics, /healthz)")]
    public static partial void MetricsListening(ILogger logger, string addresses);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Debug, Message = "call {Method} answered {Code} in {Milliseconds} ms")]
    public static partial void CallAnswered(ILogger logger, string method, StatusCode code, double milliseconds);
}
