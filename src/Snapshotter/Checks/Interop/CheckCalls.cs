using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Snapshotter.Checks.Interop;

/// <summary>
/// The system calls <c>snapshotter check</c> probes the cache directory with. statfs(2) (for <c>f_type</c>; Tmds.LibC has
/// only statvfs, which lacks it), setxattr(2) and removexattr(2) are our own imports because Tmds.LibC has none; open(2)
/// with O_TMPFILE and geteuid come from Tmds.LibC. Each returns 0 or an errno, EINTR retried.
/// </summary>
internal static unsafe partial class CheckCalls
{
    /// <summary>The effective user id.</summary>
    public static uint EffectiveUserId => LibC.geteuid();

    /// <summary>statfs(2) of <paramref name="path"/>: the filesystem magic, the block size, total and available blocks.</summary>
    public static int StatFs(string path, out long type, out long blockSize, out ulong blocks, out ulong available)
    {
        StatFsBuffer buffer;
        int result;
        do
        {
            result = statfs(path, &buffer);
        }
        while (result != 0 && Marshal.GetLastPInvokeError() == LibC.EINTR);

        (type, blockSize, blocks, available) = (buffer.Type, buffer.BlockSize, buffer.Blocks, buffer.Available);
        return result == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>Sets then removes the extended attribute <paramref name="name"/> on <paramref name="path"/>; 0 or the errno of the first failure.</summary>
    public static int SetAndRemoveXattr(string path, string name)
    {
        ReadOnlySpan<byte> value = "1"u8;
        int result;
        do
        {
            result = setxattr(path, name, value, (nuint)value.Length, 0);
        }
        while (result != 0 && Marshal.GetLastPInvokeError() == LibC.EINTR);

        if (result != 0)
        {
            return Marshal.GetLastPInvokeError();
        }

        do
        {
            result = removexattr(path, name);
        }
        while (result != 0 && Marshal.GetLastPInvokeError() == LibC.EINTR);

        return result == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>Opens (and closes again) an unnamed O_TMPFILE in <paramref name="directory"/>; 0 or the errno.</summary>
    public static int OpenTmpFile(string directory)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(directory + "\0");
        int fd;
        fixed (byte* p = bytes)
        {
            do
            {
                fd = LibC.open(p, LibC.O_TMPFILE | LibC.O_RDWR | LibC.O_CLOEXEC, 0x180);
            }
            while (fd < 0 && LibC.errno == LibC.EINTR);
        }

        if (fd < 0)
        {
            return LibC.errno;
        }

        // The probe only needed the open to succeed; a failing close of a file nobody wrote changes nothing.
        _ = LibC.close(fd);
        return 0;
    }

    /// <summary>The C library's name of <paramref name="errno"/> where it is one a check explains (EOPNOTSUPP, EACCES, ...), with its text.</summary>
    public static string Describe(int errno)
    {
        var name = errno switch
        {
            1 => "EPERM",
            2 => "ENOENT",
            13 => "EACCES",
            15 => "ENOTBLK",
            16 => "EBUSY",
            19 => "ENODEV",
            22 => "EINVAL",
            28 => "ENOSPC",
            30 => "EROFS",
            38 => "ENOSYS",
            95 => "EOPNOTSUPP",
            _ => null,
        };
        var text = Marshal.GetPInvokeErrorMessage(errno);
        return name is null ? $"{text} (errno {errno})" : $"{name}: {text}";
    }

    // Missing from Tmds.LibC (it has statvfs only, without f_type).
    [LibraryImport("libc", EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statfs(string path, StatFsBuffer* buffer);

    // Missing from Tmds.LibC.
    [LibraryImport("libc", EntryPoint = "setxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setxattr(string path, string name, ReadOnlySpan<byte> value, nuint size, int flags);

    // Missing from Tmds.LibC.
    [LibraryImport("libc", EntryPoint = "removexattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int removexattr(string path, string name);

    /// <summary><c>struct statfs</c> on 64-bit Linux (x86_64, arm64): 120 bytes.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 120)]
    private struct StatFsBuffer
    {
        [FieldOffset(0)] public long Type;
        [FieldOffset(8)] public long BlockSize;
        [FieldOffset(16)] public ulong Blocks;
        [FieldOffset(24)] public ulong Free;
        [FieldOffset(32)] public ulong Available;
    }
}
