using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Snapshotter.Cachefiles.Interop;

/// <summary>
/// The daemon's system calls, over Tmds.LibC through <see cref="FdCalls"/> (a SafeHandle reference held around each
/// call, EINTR retried), failures turned into <see cref="SyscallException"/> naming the syscall (or returned as -errno
/// where the caller is on the READ hot path and must not throw). Nothing else in the project calls libc for the daemon.
/// </summary>
internal static unsafe class Syscalls
{
    /// <summary>open(2) with O_CLOEXEC added; throws naming the call and the path.</summary>
    public static SafeFdHandle Open(string path, int flags)
    {
        int fd;
        fixed (byte* p = CString.From(path))
        {
            while ((fd = LibC.open(p, flags | LibC.O_CLOEXEC)) < 0)
            {
                if (!Interrupted(fd))
                {
                    throw new SyscallException("open", LibC.errno, path);
                }
            }
        }

        return new SafeFdHandle(fd);
    }

    /// <summary>Writes the whole buffer in one write(2) (device commands must not be split); returns 0 or -errno.</summary>
    public static int WriteCommand(SafeFdHandle handle, ReadOnlySpan<byte> command)
    {
        fixed (byte* p = command)
        {
            var n = FdCalls.Call(handle, &FdCalls.Write, (nint)p, command.Length);
            return n < 0 ? (int)n : n == command.Length ? 0 : -LibC.EIO;
        }
    }

    /// <summary>One read(2); returns the byte count or -errno.</summary>
    public static nint Read(SafeFdHandle handle, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            return (nint)FdCalls.Call(handle, &FdCalls.Read, (nint)p, buffer.Length);
        }
    }

    /// <summary>
    /// pwrite(2) of the whole buffer at <paramref name="offset"/>, looping over short writes; returns 0 or -errno.
    /// The buffer must be page-aligned for cachefiles (it writes the backing file with direct I/O).
    /// </summary>
    public static int PwriteAll(SafeFdHandle handle, byte* buffer, int length, long offset)
    {
        var n = FdCalls.Full(handle, &FdCalls.Pwrite, buffer, length, offset, isWrite: true);
        return n < 0 ? (int)n : 0;
    }

    /// <summary>pread(2) until <paramref name="length"/> bytes or end of file; returns the count or -errno.</summary>
    public static nint PreadFull(SafeFdHandle handle, byte* buffer, int length, long offset) =>
        (nint)FdCalls.Full(handle, &FdCalls.Pread, buffer, length, offset, isWrite: false);

    /// <summary>ioctl(2) with an integer argument (passed zero-extended, as the kernel's unsigned long); returns 0 or -errno.</summary>
    public static int Ioctl(SafeFdHandle handle, int request, nuint arg)
    {
        var rc = FdCalls.Call(handle, &FdCalls.Ioctl, (nint)arg, request);
        return rc < 0 ? (int)rc : 0;
    }

    /// <summary>poll(2) for POLLIN on one fd; returns the revents (0 on timeout) or -errno.</summary>
    public static int PollIn(SafeFdHandle handle, int timeoutMs)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            var pfd = new pollfd { fd = (int)handle.DangerousGetHandle(), events = LibC.POLLIN };
            var n = Poll(new Span<pollfd>(&pfd, 1), timeoutMs);
            return n <= 0 ? n : pfd.revents;
        }
        finally
        {
            handle.DangerousRelease();
        }
    }

    /// <summary>poll(2), EINTR retried; returns the number of ready fds (0 on timeout) or -errno.</summary>
    public static int Poll(Span<pollfd> fds, int timeoutMs)
    {
        fixed (pollfd* p = fds)
        {
            while (true)
            {
                var n = LibC.poll(p, (uint)fds.Length, timeoutMs);
                if (n >= 0)
                {
                    return n;
                }

                // Tmds.LibC declares poll without SetLastError, so LibC.errno would be a stale value: read errno from the
                // thread directly, immediately after the call (what LibraryImport's generated stubs do).
                var errno = Marshal.GetLastSystemError();
                if (errno != LibC.EINTR)
                {
                    return -errno;
                }
            }
        }
    }

    /// <summary>Marks an fd close-on-exec; returns 0 or -errno.</summary>
    public static int SetCloseOnExec(SafeFdHandle handle)
    {
        var rc = FdCalls.Call(handle, &SetFdCloexec, 0);
        return rc < 0 ? (int)rc : 0;
    }

    private static long SetFdCloexec(int fd, nint unused, nint count, long offset) => LibC.fcntl(fd, LibC.F_SETFD, LibC.FD_CLOEXEC);

    /// <summary>True when a call that returned <paramref name="result"/> failed with EINTR and is simply to be repeated.</summary>
    private static bool Interrupted(long result) => result < 0 && LibC.errno == LibC.EINTR;
}
