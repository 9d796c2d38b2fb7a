using Microsoft.Win32.SafeHandles;

namespace Snapshotter.Fuse;

/// <summary>
/// One read-only file of a <see cref="FuseServer"/>'s flat root directory (a data blob's uncompressed address
/// space, or a bootstrap). Implementations must be safe for concurrent <see cref="ReadAsync(long, Memory{byte}, CancellationToken)"/> calls.
/// </summary>
public interface IFuseFile
{
    /// <summary>The file name: unique within the server, 1..255 UTF-8 bytes, no '/' or NUL, not "." or "..".</summary>
    string Name { get; }

    /// <summary>The file size in bytes; constant while the file is in the server (files are immutable).</summary>
    long Size { get; }

    /// <summary>
    /// Fills <paramref name="destination"/> with the bytes at [<paramref name="offset"/>, offset + destination.Length).
    /// The server clips the range to <see cref="Size"/>, so it never reaches past the end. A count smaller than the
    /// destination is allowed (the server asks again for the rest); 0 before the end counts as EIO. Expected failures
    /// (the registry is unreachable, a chunk fails verification) are returned as <see cref="FuseReadResult.Error"/>
    /// values, not thrown. <paramref name="cancellationToken"/> is cancelled when the kernel interrupts the request
    /// (the reader got a signal) or the server stops; the reader is then answered EINTR without waiting for the read.
    /// </summary>
    ValueTask<FuseReadResult> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="ReadAsync(long, Memory{byte}, CancellationToken)"/>, knowing the requesting thread
    /// (<paramref name="caller"/>); the server calls this one. Defaults to ignoring the caller.
    /// </summary>
    ValueTask<FuseReadResult> ReadAsync(long offset, Memory<byte> destination, FuseCaller caller, CancellationToken cancellationToken) =>
        ReadAsync(offset, destination, cancellationToken);

    /// <summary>
    /// For FUSE passthrough (Linux 6.9+, <see cref="FuseServerOptions.Passthrough"/>): an open, readable handle of a
    /// local regular file holding the file's FULL content, once it is completely local; null while it is not (the
    /// server then serves READs through <see cref="ReadAsync(long, Memory{byte}, CancellationToken)"/>). The server registers the handle with the kernel at
    /// the first OPEN that gets it (the kernel takes its own reference) and never closes it: the file keeps
    /// ownership. Asked at every OPEN until a handle is given.
    /// </summary>
    SafeFileHandle? GetPassthroughHandle();
}
