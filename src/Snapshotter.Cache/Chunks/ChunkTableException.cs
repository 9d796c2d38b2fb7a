namespace Snapshotter.Cache.Chunks;

/// <summary>A chunk table that cannot be trusted; the message names the chunk and the broken rule.</summary>
public sealed class ChunkTableException(string message) : Exception(message);
