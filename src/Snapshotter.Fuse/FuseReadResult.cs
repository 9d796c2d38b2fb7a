namespace Snapshotter.Fuse;

/// <summary>The outcome of <see cref="IFuseFile.ReadAsync(long, Memory{byte}, CancellationToken)"/>: a byte count, or an errno for the reader.</summary>
public readonly struct FuseReadResult
{
    private FuseReadResult(int bytesRead, int errno)
    {
        BytesRead = bytesRead;
        Errno = errno;
    }

    /// <summary>Bytes written into the destination (0 when <see cref="IsError"/>).</summary>
    public int BytesRead { get; }

    /// <summary>The positive errno the reader gets (e.g. 5, EIO), or 0 on success.</summary>
    public int Errno { get; }

    public bool IsError => Errno != 0;

    public static FuseReadResult Success(int bytesRead)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytesRead);
        return new FuseReadResult(bytesRead, 0);
    }

    /// <summary>A failure answered to the reader as <paramref name="errno"/> (positive, e.g. 5 for EIO).</summary>
    public static FuseReadResult Error(int errno)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(errno);
        return new FuseReadResult(0, errno);
    }

    /// <summary>EIO (5): the data could not be produced.</summary>
    public static FuseReadResult IoError => new(0, 5);
}
