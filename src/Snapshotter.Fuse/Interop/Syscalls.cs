using Tmds.Linux;

namespace Snapshotter.Fuse.Interop;

/// <summary>
/// The system calls of the FUSE server over Tmds.LibC: device I/O through <see cref="FdCalls"/> (a reference held on
/// the handle, EINTR retried, -errno results on the hot path), setup failures as <see cref="SyscallException"/>s naming
/// the call; mount(2)/umount2(2) are <see cref="MountCalls"/>.
/// </summary>
internal static unsafe class Syscalls
{
    public static SafeFdHandle Open(string path, int flags)
    {
        var bytes = CString.From(path);
        fixed (byte* p = bytes)
        {
            while (true)
            {
                var fd = LibC.open(p, flags | LibC.O_CLOEXEC, 0);
                if (fd >= 0)
                {
                    return new SafeFdHandle(fd);
                }

                var errno = LibC.errno;
                if (errno != Errno.EINTR)
                {
                    throw new SyscallException("open", errno, path);
                }
            }
        }
    }

    /// <summary>One read(2) into <paramref name="buffer"/>; returns the byte count or -errno.</summary>
    public static int Read(SafeFdHandle fd, byte* buffer, int length) => (int)FdCalls.Call(fd, &FdCalls.Read, (nint)buffer, length);

    /// <summary>
    /// One write(2) of a whole message (the device takes each message in a single call); returns 0 or -errno.
    /// A closed handle yields -EBADF instead of an exception (replies may race with shutdown).
    /// </summary>
    public static int Write(SafeFdHandle fd, byte* buffer, int length)
    {
        long n;
        try
        {
            n = FdCalls.Call(fd, &FdCalls.Write, (nint)buffer, length);
        }
        catch (ObjectDisposedException)
        {
            return -Errno.EBADF;
        }

        return n < 0 ? (int)n : n == length ? 0 : -Errno.EIO;
    }

    /// <summary>
    /// poll(2) for input on <paramref name="fd"/> and <paramref name="wake"/> without a timeout; returns a bit set
    /// (1: fd readable or in error, 2: wake signalled) or -errno.
    /// </summary>
    public static int PollTwo(SafeFdHandle fd, SafeFdHandle wake)
    {
        bool addedFd = false, addedWake = false;
        fd.DangerousAddRef(ref addedFd);
        wake.DangerousAddRef(ref addedWake);
        try
        {
            var fds = stackalloc pollfd[2];
            fds[0] = new pollfd { fd = fd.Fd, events = (short)LibC.POLLIN };
            fds[1] = new pollfd { fd = wake.Fd, events = (short)LibC.POLLIN };
            while (true)
            {
                var n = LibC.poll(fds, 2, -1);
                if (n >= 0)
                {
                    return (fds[0].revents != 0 ? 1 : 0) | (fds[1].revents != 0 ? 2 : 0);
                }

                var errno = LibC.errno;
                if (errno != Errno.EINTR)
                {
                    return -errno;
                }
            }
        }
        finally
        {
            wake.DangerousRelease();
            fd.DangerousRelease();
        }
    }

    /// <summary>ioctl(2) with a pointer argument; returns the (non-negative) result or -errno (-EBADF for a closed handle).</summary>
    public static int Ioctl(SafeFdHandle fd, uint request, void* argument)
    {
        try
        {
            // Tmds.LibC takes the request as an Int32: the high direction bits make it negative.
            return (int)FdCalls.Call(fd, &FdCalls.Ioctl, (nint)argument, unchecked((int)request));
        }
        catch (ObjectDisposedException)
        {
            return -Errno.EBADF;
        }
    }

    /// <summary>An eventfd used to wake the device readers at shutdown.</summary>
    public static SafeFdHandle EventFd()
    {
        var fd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (fd < 0)
        {
            throw new SyscallException("eventfd", LibC.errno, "(shutdown signal)");
        }

        return new SafeFdHandle(fd);
    }

    /// <summary>Adds one to an eventfd (wakes every poller); errors are ignored (shutdown is best effort).</summary>
    public static void Signal(SafeFdHandle eventFd)
    {
        ulong one = 1;
        Write(eventFd, (byte*)&one, sizeof(ulong));
    }

    /// <summary>stat(2) of <paramref name="path"/>; returns 0 or -errno (ENOTCONN: a FUSE mount whose server is gone).</summary>
    public static int Stat(string path, out ulong device)
    {
        var p = CString.From(path);
        stat st;
        fixed (byte* pp = p)
        {
            while (true)
            {
                if (LibC.stat(pp, &st) == 0)
                {
                    device = st.st_dev;
                    return 0;
                }

                var errno = LibC.errno;
                if (errno != Errno.EINTR)
                {
                    device = 0;
                    return -errno;
                }
            }
        }
    }

    /// <summary>
    /// statvfs(2) of <paramref name="path"/>; returns 0 or -errno. Unlike stat(2), which a FUSE mount may answer from
    /// its attribute cache, it always asks the server, so a mount whose server is gone reports ENOTCONN.
    /// </summary>
    public static int StatVfs(string path)
    {
        var p = CString.From(path);
        statvfs st;
        fixed (byte* pp = p)
        {
            while (true)
            {
                if (LibC.statvfs(pp, &st) == 0)
                {
                    return 0;
                }

                var errno = LibC.errno;
                if (errno != Errno.EINTR)
                {
                    return -errno;
                }
            }
        }
    }
}
