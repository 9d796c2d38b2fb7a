using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Snapshotter.Cachefiles.Interop;

/// <summary>
/// The daemon's system calls, over Tmds.LibC: a SafeHandle reference held around each call (<see cref="FdReference"/>),
/// EINTR retried, failures turned into <see cref="SyscallException"/> naming the syscall (or returned as -errno where
/// the caller is on the READ hot path and must not throw). Nothing else in the project calls libc for the daemon.
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
        using var fd = handle.Hold();
        fixed (byte* p = command)
        {
            long n;
            do
            {
                n = LibC.write(fd.Fd, p, command.Length);
            }
            while (Interrupted(n));

            return n < 0 ? -LibC.errno : n == command.Length ? 0 : -LibC.EIO;
        }
    }

    /// <summary>One read(2); returns the byte count or -errno.</summary>
    public static nint Read(SafeFdHandle handle, Span<byte> buffer)
    {
        using var fd = handle.Hold();
        fixed (byte* p = buffer)
        {
            long n;
            do
            {
                n = LibC.read(fd.Fd, p, buffer.Length);
            }
            while (Interrupted(n));

            return n < 0 ? -LibC.errno : (nint)n;
        }
    }

    /// <summary>
    /// pwrite(2) of the whole buffer at <paramref name="offset"/>, looping over short writes; returns 0 or -errno.
    /// The buffer must be page-aligned for cachefiles (it writes the backing file with direct I/O).
    /// </summary>
    public static int PwriteAll(SafeFdHandle handle, byte* buffer, int length, long offset)
    {
        using var fd = handle.Hold();
        var done = 0;
        while (done < length)
        {
            long n = LibC.pwrite(fd.Fd, buffer + done, length - done, offset + done);
            if (n > 0)
            {
                done += (int)n;
            }
            else if (n == 0)
            {
                return -LibC.EIO;
            }
            else if (!Interrupted(n))
            {
                return -LibC.errno;
            }
        }

        return 0;
    }

    /// <summary>pread(2) until <paramref name="length"/> bytes or end of file; returns the count or -errno.</summary>
    public static nint PreadFull(SafeFdHandle handle, byte* buffer, int length, long offset)
    {
        using var fd = handle.Hold();
        var done = 0;
        while (done < length)
        {
            long n = LibC.pread(fd.Fd, buffer + done, length - done, offset + done);
            if (n > 0)
            {
                done += (int)n;
            }
            else if (n == 0)
            {
                break;
            }
            else if (!Interrupted(n))
            {
                return -LibC.errno;
            }
        }

        return done;
    }

    /// <summary>ioctl(2) with an integer argument (passed zero-extended, as the kernel's unsigned long); returns 0 or -errno.</summary>
    public static int Ioctl(SafeFdHandle handle, int request, nuint arg)
    {
        using var fd = handle.Hold();
        int rc;
        do
        {
            rc = LibC.ioctl(fd.Fd, request, (void*)arg);
        }
        while (Interrupted(rc));

        return rc < 0 ? -LibC.errno : 0;
    }

    /// <summary>poll(2) for POLLIN on one fd; returns the revents (0 on timeout) or -errno.</summary>
    public static int PollIn(SafeFdHandle handle, int timeoutMs)
    {
        using var fd = handle.Hold();
        var pfd = new pollfd { fd = fd.Fd, events = LibC.POLLIN };
        var n = Poll(new Span<pollfd>(&pfd, 1), timeoutMs);
        return n <= 0 ? n : pfd.revents;
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
        using var fd = handle.Hold();
        return LibC.fcntl(fd.Fd, LibC.F_SETFD, LibC.FD_CLOEXEC) == 0 ? 0 : -LibC.errno;
    }

    /// <summary>mount(2) with no flags; throws naming the call, the file system and both paths.</summary>
    public static void Mount(string source, string target, string fsType, string? data)
    {
        fixed (byte* s = CString.From(source))
        fixed (byte* t = CString.From(target))
        fixed (byte* type = CString.From(fsType))
        fixed (byte* d = data is null ? null : CString.From(data))
        {
            if (LibC.mount(s, t, type, 0u, d) != 0)
            {
                throw new SyscallException("mount", LibC.errno, $"{fsType} {source} on {target} ({data})");
            }
        }
    }

    /// <summary>umount2(2); returns 0 or -errno (callers decide whether a busy mount is an error).</summary>
    public static int Unmount(string target, int flags)
    {
        fixed (byte* t = CString.From(target))
        {
            return LibC.umount2(t, flags) == 0 ? 0 : -LibC.errno;
        }
    }

    /// <summary>True when a call that returned <paramref name="result"/> failed with EINTR and is simply to be repeated.</summary>
    private static bool Interrupted(long result) => result < 0 && LibC.errno == LibC.EINTR;
}
