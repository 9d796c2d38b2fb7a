namespace Snapshotter.Erofs.Reading;

/// <summary>
/// One chunk of a chunk-based file. <see cref="DeviceId"/> is already masked the way the kernel masks it;
/// <see cref="BlobChunkIndex"/> is the Nydus index into that blob's chunk-info table (from the unmasked bits).
/// </summary>
internal readonly record struct ErofsChunkIndex(int DeviceId, uint BlockAddress, uint BlobChunkIndex)
{
    /// <summary>True for a hole (reads as zeros).</summary>
    public bool IsHole => BlockAddress == ErofsFormat.NullAddress;
}
