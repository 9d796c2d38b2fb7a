using System.Runtime.InteropServices;

namespace Snapshotter.Cachefiles.Interop;

/// <summary>
/// Safe wrappers over <see cref="Libc"/>: SafeHandle reference counting around each call, EINTR retried,
/// failures turned into <see cref="SyscallException"/> naming the syscall (or returned as -errno where the
/// caller is on the READ hot path and must not throw).
/// </summary>
internal static unsafe class Syscalls
{
    public static SafeFdHandle Open(string path, int flags)
    {
        while (true)
        {
            var fd = Libc.open(path, flags | Libc.O_CLOEXEC);
            if (fd >= 0)
            {
                return new SafeFdHandle(fd);
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != Libc.EINTR)
            {
                throw new SyscallException("open", errno, path);
            }
        }
    }

    /// <summary>Writes the whole buffer in one write(2) (device commands must not be split); returns 0 or -errno.</summary>
    public static int WriteCommand(SafeFdHandle fd, ReadOnlySpan<byte> command)
    {
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            fixed (byte* p = command)
            {
                while (true)
                {
                    var n = Libc.write(fd.Fd, p, (nuint)command.Length);
                    if (n >= 0)
                    {
                        return n == command.Length ? 0 : -Libc.EIO;
                    }

                    var errno = Marshal.GetLastPInvokeError();
                    if (errno != Libc.EINTR)
                    {
                        return -errno;
                    }
                }
            }
        }
        finally
        {
            fd.DangerousRelease();
        }
    }

    /// <summary>One read(2); returns the byte count or -errno.</summary>
    public static nint Read(SafeFdHandle fd, Span<byte> buffer)
    {
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            fixed (byte* p = buffer)
            {
                while (true)
                {
                    var n = Libc.read(fd.Fd, p, (nuint)buffer.Length);
                    if (n >= 0)
                    {
                        return n;
                    }

                    var errno = Marshal.GetLastPInvokeError();
                    if (errno != Libc.EINTR)
                    {
                        return -errno;
                    }
                }
            }
        }
        finally
        {
            fd.DangerousRelease();
        }
    }

    /// <summary>
    /// pwrite(2) of the whole buffer at <paramref name="offset"/>, looping over short writes; returns 0 or -errno.
    /// The buffer must be page-aligned for cachefiles (it writes the backing file with direct I/O).
    /// </summary>
    public static int PwriteAll(SafeFdHandle fd, byte* buffer, int length, long offset)
    {
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            var done = 0;
            while (done < length)
            {
                var n = Libc.pwrite(fd.Fd, buffer + done, (nuint)(length - done), offset + done);
                if (n > 0)
                {
                    done += (int)n;
                    continue;
                }

                var errno = n == 0 ? Libc.EIO : Marshal.GetLastPInvokeError();
                if (errno != Libc.EINTR)
                {
                    return -errno;
                }
            }

            return 0;
        }
        finally
        {
            fd.DangerousRelease();
        }
    }

    /// <summary>pread(2) until <paramref name="length"/> bytes or end of file; returns the count or -errno.</summary>
    public static nint PreadFull(SafeFdHandle fd, byte* buffer, int length, long offset)
    {
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            var done = 0;
            while (done < length)
            {
                var n = Libc.pread(fd.Fd, buffer + done, (nuint)(length - done), offset + done);
                if (n > 0)
                {
                    done += (int)n;
                    continue;
                }

                if (n == 0)
                {
                    break;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.EINTR)
                {
                    return -errno;
                }
            }

            return done;
        }
        finally
        {
            fd.DangerousRelease();
        }
    }

    /// <summary>ioctl(2) with an integer argument; returns 0 or -errno.</summary>
    public static int Ioctl(SafeFdHandle fd, nuint request, nint arg)
    {
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            while (true)
            {
                if (Libc.ioctl(fd.Fd, request, arg) >= 0)
                {
                    return 0;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.EINTR)
                {
                    return -errno;
                }
            }
        }
        finally
        {
            fd.DangerousRelease();
        }
    }

    /// <summary>poll(2) for POLLIN on one fd; returns the revents (0 on timeout) or -errno.</summary>
    public static int PollIn(SafeFdHandle fd, int timeoutMs)
    {
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            var pfd = new Libc.PollFd { Fd = fd.Fd, Events = Libc.POLLIN };
            while (true)
            {
                var n = Libc.poll(&pfd, 1, timeoutMs);
                if (n >= 0)
                {
                    return n == 0 ? 0 : pfd.Revents;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.EINTR)
                {
                    return -errno;
                }
            }
        }
        finally
        {
            fd.DangerousRelease();
        }
    }

    /// <summary>Marks an fd close-on-exec; returns 0 or -errno.</summary>
    public static int SetCloseOnExec(SafeFdHandle fd)
    {
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            return Libc.fcntl(fd.Fd, Libc.F_SETFD, Libc.FD_CLOEXEC) == 0 ? 0 : -Marshal.GetLastPInvokeError();
        }
        finally
        {
            fd.DangerousRelease();
        }
    }

    public static void Mount(string source, string target, string fsType, string? data)
    {
        if (Libc.mount(source, target, fsType, 0, data) != 0)
        {
            throw new SyscallException("mount", Marshal.GetLastPInvokeError(), $"{fsType} {source} on {target} ({data})");
        }
    }

    /// <summary>umount2(2); returns 0 or -errno (callers decide whether a busy mount is an error).</summary>
    public static int Unmount(string target, int flags)
    {
        return Libc.umount2(target, flags) == 0 ? 0 : -Marshal.GetLastPInvokeError();
    }
}
