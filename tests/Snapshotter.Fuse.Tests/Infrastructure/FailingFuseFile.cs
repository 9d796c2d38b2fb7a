using Microsoft.Win32.SafeHandles;

namespace Snapshotter.Fuse.Tests.Infrastructure;

/// <summary>A file whose reads fail with an errno (or throw), like a chunk that cannot be fetched or verified.</summary>
internal sealed class FailingFuseFile(string name, long size, int errno, bool throwInstead = false) : IFuseFile
{
    public string Name { get; } = name;

    public long Size { get; } = size;

    public ValueTask<FuseReadResult> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken) =>
        throwInstead ? throw new InvalidOperationException("simulated bug in a file") : ValueTask.FromResult(FuseReadResult.Error(errno));

    public SafeFileHandle? GetPassthroughHandle() => null;
}
