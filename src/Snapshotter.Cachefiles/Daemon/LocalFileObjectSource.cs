using Snapshotter.Cache.Buffers;
using Snapshotter.Cachefiles.Interop;
using Tmds.Linux;

namespace Snapshotter.Cachefiles.Daemon;

/// <summary>Serves a cache object from a local file: the bootstrap, or a data blob that is already local.</summary>
public sealed class LocalFileObjectSource : ICacheObjectSource, IDisposable
{
    /// <summary>Largest single pread/pwrite; bigger READs are served in steps.</summary>
    private const int StepSize = 1024 * 1024;

    private readonly SafeFdHandle _file;
    private readonly AlignedBufferPool _pool;

    public LocalFileObjectSource(string path, AlignedBufferPool? pool = null)
    {
        _file = Syscalls.Open(path, LibC.O_RDONLY);
        Size = new FileInfo(path).Length;
        Path = path;
        _pool = pool ?? AlignedBufferPool.Shared;
    }

    public string Path { get; }

    public long Size { get; }

    public unsafe ValueTask<FillResult> FillAsync(long offset, long length, CacheObjectWriter writer, CancellationToken cancellationToken = default)
    {
        var start = AlignedBuffer.AlignDown(Math.Max(0, offset));
        var end = Math.Min(Size, offset + length);
        var buffer = _pool.Rent(StepSize);
        try
        {
            for (var position = start; position < end; position += StepSize)
            {
                var want = (int)Math.Min(StepSize, end - position);
                var read = Syscalls.PreadFull(_file, buffer.Pointer, want, position);
                if (read < 0)
                {
                    return ValueTask.FromResult(FillResult.Failed(FillError.SourceReadFailed, (int)read));
                }

                var result = writer.Write(buffer, (int)read, position);
                if (!result.IsSuccess)
                {
                    return ValueTask.FromResult(result);
                }
            }

            return ValueTask.FromResult(FillResult.Success);
        }
        finally
        {
            _pool.Return(buffer);
        }
    }

    public void Dispose() => _file.Dispose();
}
