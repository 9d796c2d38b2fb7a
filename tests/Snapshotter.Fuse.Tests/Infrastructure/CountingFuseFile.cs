using Microsoft.Win32.SafeHandles;

namespace Snapshotter.Fuse.Tests.Infrastructure;

/// <summary>Wraps a file and counts the READs (and bytes) the server asked of it.</summary>
internal sealed class CountingFuseFile(IFuseFile inner) : IFuseFile
{
    private long _reads;
    private long _bytes;

    public string Name => inner.Name;

    public long Size => inner.Size;

    public long Reads => Interlocked.Read(ref _reads);

    public long Bytes => Interlocked.Read(ref _bytes);

    public async ValueTask<FuseReadResult> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        var result = await inner.ReadAsync(offset, destination, cancellationToken);
        Interlocked.Add(ref _bytes, result.BytesRead);
        return result;
    }

    public SafeFileHandle? GetPassthroughHandle() => inner.GetPassthroughHandle();
}
