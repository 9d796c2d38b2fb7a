using Snapshotter.Cache.Buffers;
using Snapshotter.Lazy.Blobs;

namespace Snapshotter.Lazy.Tests.Blobs;

/// <summary>Chunk writes into a sparse cache file through its O_DIRECT handle and its buffered one.</summary>
public sealed class FileChunkSinkTests : IDisposable
{
    // Next to the tests, not in TMPDIR: that may be a tmpfs, which refuses O_DIRECT.
    private readonly string _dir = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "file-chunk-sink-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Write_AlignedAndUnalignedChunks_BothHandlesSeeTheBytesAndThePadding()
    {
        var path = Path.Combine(_dir, "blob.sparse");
        using var file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.ReadWrite);
        RandomAccess.SetLength(file, 64 * 1024);
        using var direct = DirectFile.TryOpen(path);
        Assert.NotNull(direct); // the build output is on a disk file system (ext4 here), which takes O_DIRECT
        var sink = new FileChunkSink(file, direct);
        using var buffer = new AlignedBuffer(16 * 1024);
        var data = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7 + 1)).ToArray();

        data.CopyTo(buffer.Span);
        buffer.Span[data.Length..].Fill(0xEE); // must not reach the file: the tail is zero-padded to the page
        Assert.True(sink.Write(buffer, data.Length, 8192).IsSuccess);
        data.CopyTo(buffer.Span);
        Assert.True(sink.Write(buffer, 100, 40_001).IsSuccess); // unaligned offset: the buffered handle

        var back = new byte[12 * 1024];
        Assert.Equal(back.Length, RandomAccess.Read(file, back, 8192));
        Assert.Equal(data, back[..data.Length]);
        Assert.All(back[data.Length..], b => Assert.Equal(0, b));

        using var aligned = new AlignedBuffer(12 * 1024);
        Assert.True(DirectFile.IsAligned(aligned.Span, 8192));
        Assert.Equal(aligned.Capacity, RandomAccess.Read(direct!, aligned.Span, 8192));
        Assert.Equal(back, aligned.Span.ToArray());

        var tail = new byte[100];
        RandomAccess.Read(file, tail, 40_001);
        Assert.Equal(data[..100], tail);
    }

    [Fact]
    public void IsAligned_NeedsPageAlignedOffsetLengthAndAddress()
    {
        using var buffer = new AlignedBuffer(8192);
        Assert.True(DirectFile.IsAligned(buffer.Span, 4096));
        Assert.False(DirectFile.IsAligned(buffer.Span, 512));
        Assert.False(DirectFile.IsAligned(buffer.Span[..4000], 0));
        Assert.False(DirectFile.IsAligned(buffer.Span.Slice(16, 4096), 0));
    }
}
