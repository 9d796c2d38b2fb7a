using Microsoft.Win32.SafeHandles;

namespace Snapshotter.Fuse;

/// <summary>
/// An <see cref="IFuseFile"/> backed by a complete local file (a downloaded bootstrap, a fully cached blob): reads
/// are synchronous pread(2)s, and the file can be offered for passthrough. Owns the handle it opens.
/// </summary>
public sealed class LocalFuseFile : IFuseFile, IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly bool _passthrough;

    /// <param name="name">The name in the FUSE directory.</param>
    /// <param name="path">The local file; its size is taken once (files are immutable).</param>
    /// <param name="passthrough">Offer the file for FUSE passthrough. Defaults to true.</param>
    public LocalFuseFile(string name, string path, bool passthrough = true)
    {
        Name = name;
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Size = RandomAccess.GetLength(_handle);
        _passthrough = passthrough;
    }

    public string Name { get; }

    public long Size { get; }

    public ValueTask<FuseReadResult> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        try
        {
            var n = RandomAccess.Read(_handle, destination.Span, offset);
            return ValueTask.FromResult(FuseReadResult.Success(n));
        }
        catch (IOException)
        {
            return ValueTask.FromResult(FuseReadResult.IoError);
        }
    }

    public SafeFileHandle? GetPassthroughHandle() => _passthrough ? _handle : null;

    public void Dispose() => _handle.Dispose();
}
