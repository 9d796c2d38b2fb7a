using Microsoft.Win32.SafeHandles;

namespace Snapshotter.Fuse.Tests.Infrastructure;

/// <summary>An in-memory file that counts the reads it serves.</summary>
internal sealed class MemoryFuseFile(string name, byte[] content) : IFuseFile
{
    private long _reads;

    public string Name { get; } = name;

    public long Size => content.Length;

    public byte[] Content => content;

    public long Reads => Interlocked.Read(ref _reads);

    public ValueTask<FuseReadResult> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        content.AsSpan((int)offset, destination.Length).CopyTo(destination.Span);
        return ValueTask.FromResult(FuseReadResult.Success(destination.Length));
    }

    public SafeFileHandle? GetPassthroughHandle() => null;

    public static MemoryFuseFile Random(string name, int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return new MemoryFuseFile(name, bytes);
    }
}
