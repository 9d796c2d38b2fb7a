using Microsoft.Extensions.Logging;

namespace Snapshotter.Cache;

/// <summary>Log messages of the blob cache (event ids 4000-4099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Warning, Message = "fetch of chunks {First}..{Last} (stored bytes [{Offset}, +{Length})) failed: {Error}")]
    public static partial void FetchFailed(ILogger logger, int first, int last, long offset, int length, string error);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "chunk {Index} failed verification: {Error}")]
    public static partial void ChunkCorrupt(ILogger logger, int index, string error);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Debug, Message = "fetched chunks {First}..{Last}: {Length} stored bytes at {Offset}")]
    public static partial void Fetched(ILogger logger, int first, int last, long offset, int length);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "writing chunk {Index} to the cache file failed: errno {Errno}")]
    public static partial void WriteFailed(ILogger logger, int index, int errno);
}
