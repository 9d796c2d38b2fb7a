namespace Snapshotter.Cache.Fetching;

/// <summary>
/// The outcome of making a range present, as a value: on the READ path failures are returned, never thrown, because
/// every READ must be completed by its kernel adapter, which turns a failure into the errno the reader gets
/// (<see cref="Errno"/>). A small struct: returning it through a synchronously completed <c>ValueTask</c> allocates nothing.
/// </summary>
public readonly struct FillResult : IEquatable<FillResult>
{
    private const int EIO = 5;

    private FillResult(FillError error, int errno)
    {
        Error = error;
        Errno = errno;
    }

    /// <summary>The range is present.</summary>
    public static FillResult Success => default;

    /// <summary>What went wrong; <see cref="FillError.None"/> on success.</summary>
    public FillError Error { get; }

    /// <summary>The positive errno for the reader (EIO unless the failing call said otherwise); 0 on success.</summary>
    public int Errno { get; }

    public bool IsSuccess => Error == FillError.None;

    /// <summary>A failure of <paramref name="error"/> kind; <paramref name="errno"/> (positive or negative) defaults to EIO.</summary>
    public static FillResult Failed(FillError error, int errno = EIO)
    {
        if (error == FillError.None)
        {
            throw new ArgumentOutOfRangeException(nameof(error), "a failure needs a kind other than None");
        }

        return new FillResult(error, errno == 0 ? EIO : Math.Abs(errno));
    }

    /// <summary>Success for 0, otherwise a failure of <paramref name="error"/> kind carrying the (negative) errno of a syscall result.</summary>
    public static FillResult FromErrno(int result, FillError error) => result == 0 ? Success : Failed(error, result);

    public bool Equals(FillResult other) => Error == other.Error && Errno == other.Errno;

    public override bool Equals(object? obj) => obj is FillResult other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Error, Errno);

    public override string ToString() => IsSuccess ? "Success" : $"{Error} (errno {Errno})";

    public static bool operator ==(FillResult left, FillResult right) => left.Equals(right);

    public static bool operator !=(FillResult left, FillResult right) => !left.Equals(right);
}
