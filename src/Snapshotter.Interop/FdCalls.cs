using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Snapshotter.Interop;

/// <summary>
/// The one wrapper of a system call on a descriptor, instead of the same lines per call: it holds a reference on the
/// handle for the call (so a concurrent Dispose cannot close the fd, and another open reuse its number, while the
/// kernel works on it), repeats the call while it fails with EINTR, and returns its result or -errno (the form the hot
/// paths use; callers that throw turn it into a <see cref="SyscallException"/>).
/// </summary>
internal static unsafe class FdCalls
{
    /// <summary>
    /// Runs <paramref name="syscall"/>(fd, <paramref name="pointer"/>, <paramref name="count"/>, <paramref name="offset"/>) (counts are int-sized):
    /// a static adapter of the libc function (the arguments a call does not take are ignored). Returns its result, or -errno.
    /// </summary>
    public static long Call(SafeHandle handle, delegate*<int, nint, nint, long, long> syscall, nint pointer, nint count = 0, long offset = 0)
    {
        // DangerousAddRef either takes the reference or throws ObjectDisposedException, so there is nothing to undo.
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            var fd = (int)handle.DangerousGetHandle();
            while (true)
            {
                var result = syscall(fd, pointer, count, offset);
                if (result >= 0)
                {
                    return result;
                }

                var errno = LibC.errno;
                if (errno != LibC.EINTR)
                {
                    return -errno;
                }
            }
        }
        finally
        {
            handle.DangerousRelease();
        }
    }

    /// <summary>
    /// pread(2)/pwrite(2) of the whole buffer at <paramref name="offset"/>, looping over short transfers. Returns the bytes
    /// transferred (fewer only when a read reaches the end of the file) or -errno; a write that makes no progress is -EIO.
    /// </summary>
    public static long Full(SafeHandle handle, delegate*<int, nint, nint, long, long> syscall, byte* buffer, int length, long offset, bool isWrite)
    {
        var done = 0;
        while (done < length)
        {
            var n = Call(handle, syscall, (nint)(buffer + done), length - done, offset + done);
            if (n < 0)
            {
                return n;
            }

            if (n == 0)
            {
                if (isWrite)
                {
                    return -LibC.EIO;
                }

                break;
            }

            done += (int)n;
        }

        return done;
    }

    /// <summary>Adapter of write(2) for <see cref="Call"/>.</summary>
    [SuppressMessage("Style", "IDE0060:Remove unused parameter", Justification = "every adapter of Call has the same signature")]
    public static long Write(int fd, nint buffer, nint count, long offset) => LibC.write(fd, (void*)buffer, (int)count);

    /// <summary>Adapter of read(2) for <see cref="Call"/>.</summary>
    [SuppressMessage("Style", "IDE0060:Remove unused parameter", Justification = "every adapter of Call has the same signature")]
    public static long Read(int fd, nint buffer, nint count, long offset) => LibC.read(fd, (void*)buffer, (int)count);

    /// <summary>Adapter of pwrite(2) for <see cref="Call"/> and <see cref="Full"/>.</summary>
    public static long Pwrite(int fd, nint buffer, nint count, long offset) => LibC.pwrite(fd, (void*)buffer, (int)count, offset);

    /// <summary>Adapter of pread(2) for <see cref="Call"/> and <see cref="Full"/>.</summary>
    public static long Pread(int fd, nint buffer, nint count, long offset) => LibC.pread(fd, (void*)buffer, (int)count, offset);

    /// <summary>Adapter of ioctl(2) for <see cref="Call"/>: the argument rides in the pointer, the request in the count.</summary>
    [SuppressMessage("Style", "IDE0060:Remove unused parameter", Justification = "every adapter of Call has the same signature")]
    public static long Ioctl(int fd, nint argument, nint request, long offset) => LibC.ioctl(fd, (int)request, (void*)argument);
}
