using Snapshotter.Fuse.Interop;
using Tmds.Linux;

namespace Snapshotter.Fuse.Tests.Infrastructure;

/// <summary>Raw reads through the kernel that report the errno (what a reader process really sees).</summary>
internal static unsafe class Reads
{
    /// <summary>pread(2) of up to <paramref name="destination"/>'s length at <paramref name="offset"/>; -errno on failure.</summary>
    public static int Pread(string path, long offset, Span<byte> destination)
    {
        using var fd = Syscalls.Open(path, LibC.O_RDONLY);
        fixed (byte* p = destination)
        {
            var done = 0;
            while (done < destination.Length)
            {
                var n = LibC.pread(fd.Fd, p + done, destination.Length - done, offset + done);
                if (n < 0)
                {
                    return -LibC.errno;
                }

                if (n == 0)
                {
                    break;
                }

                done += (int)n;
            }

            return done;
        }
    }

    /// <summary>Drops a file's cached pages, so the next read goes to the server (POSIX_FADV_DONTNEED).</summary>
    public static void DropFileCache(string path)
    {
        using var handle = File.OpenHandle(path);
        Assert.Equal(0, LibC.posix_fadvise((int)handle.DangerousGetHandle(), 0, 0, LibC.POSIX_FADV_DONTNEED));
    }
}
