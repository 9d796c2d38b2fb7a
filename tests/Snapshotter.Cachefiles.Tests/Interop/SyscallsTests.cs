using System.Runtime.InteropServices;
using Snapshotter.Cachefiles.Interop;
using Snapshotter.Cachefiles.Protocol;
using Snapshotter.Interop;
using Tmds.Linux;

namespace Snapshotter.Cachefiles.Tests.Interop;

/// <summary>The daemon's wrappers against the real kernel: results, -errno values and the errno each failure reports.</summary>
public sealed unsafe class SyscallsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cachefiles-syscalls-" + Guid.NewGuid().ToString("N"));

    public SyscallsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Open_MissingPath_ThrowsNamingOpenAndEnoent()
    {
        var path = Path.Combine(_dir, "missing");

        var e = Assert.Throws<SyscallException>(() => Syscalls.Open(path, LibC.O_RDONLY));

        Assert.Equal("open", e.Syscall);
        Assert.Equal(LibC.ENOENT, e.ErrorNumber);
        Assert.Equal($"open {path}: No such file or directory (errno 2)", e.Message);
    }

    [Fact]
    public void Open_ExistingFile_SetsCloseOnExec()
    {
        using var file = Syscalls.Open(NewFile("f", 0), LibC.O_RDONLY);

        Assert.Equal(LibC.FD_CLOEXEC, FdFlags(file) & LibC.FD_CLOEXEC);
    }

    [Fact]
    public void WriteCommandThenRead_RegularFile_RoundTripsTheBytes()
    {
        var path = NewFile("cmd", 0);
        using (var file = Syscalls.Open(path, LibC.O_RDWR))
        {
            Assert.Equal(0, Syscalls.WriteCommand(file, "bind ondemand"u8));
        }

        using var reader = Syscalls.Open(path, LibC.O_RDONLY);
        var buffer = new byte[64];
        var n = Syscalls.Read(reader, buffer);

        Assert.Equal("bind ondemand", System.Text.Encoding.ASCII.GetString(buffer, 0, (int)n));
        Assert.Equal(0, Syscalls.Read(reader, buffer));
    }

    [Fact]
    public void Read_WriteOnlyFd_ReturnsMinusEbadf()
    {
        using var file = Syscalls.Open(NewFile("wo", 16), LibC.O_WRONLY);

        Assert.Equal(-LibC.EBADF, Syscalls.Read(file, new byte[16]));
    }

    [Fact]
    public void Read_DisposedHandle_ThrowsObjectDisposed()
    {
        var file = Syscalls.Open(NewFile("closed", 16), LibC.O_RDONLY);
        file.Dispose();

        Assert.Throws<ObjectDisposedException>(() => Syscalls.Read(file, new byte[16]));
    }

    [Fact]
    public void PwriteAllThenPreadFull_RegularFile_ReadsBackAndStopsAtEndOfFile()
    {
        using var file = Syscalls.Open(NewFile("data", 0), LibC.O_RDWR);
        var block = (byte*)NativeMemory.AlignedAlloc(4096, 4096);
        var back = (byte*)NativeMemory.AlignedAlloc(16384, 4096);
        try
        {
            new Span<byte>(block, 4096).Fill(0xAB);

            Assert.Equal(0, Syscalls.PwriteAll(file, block, 4096, 4096));
            var n = Syscalls.PreadFull(file, back, 16384, 0);

            Assert.Equal(8192, n);
            Assert.True(new ReadOnlySpan<byte>(back, 4096).IndexOfAnyExcept((byte)0) < 0);
            Assert.True(new ReadOnlySpan<byte>(back + 4096, 4096).IndexOfAnyExcept((byte)0xAB) < 0);
        }
        finally
        {
            NativeMemory.AlignedFree(block);
            NativeMemory.AlignedFree(back);
        }
    }

    [Fact]
    public void PwriteAll_ReadOnlyFd_ReturnsMinusEbadf()
    {
        using var file = Syscalls.Open(NewFile("ro", 0), LibC.O_RDONLY);
        byte value = 1;

        Assert.Equal(-LibC.EBADF, Syscalls.PwriteAll(file, &value, 1, 0));
    }

    [Fact]
    public void Ioctl_ReadCompleteOnRegularFile_ReturnsMinusEnotty()
    {
        using var file = Syscalls.Open(NewFile("ioctl", 0), LibC.O_RDONLY);

        Assert.Equal(-LibC.ENOTTY, Syscalls.Ioctl(file, CachefilesReplies.ReadCompleteIoctl, 1));
    }

    [Fact]
    public void PollIn_RegularFile_ReportsPollin()
    {
        using var file = Syscalls.Open(NewFile("poll", 1), LibC.O_RDONLY);

        Assert.Equal(LibC.POLLIN, Syscalls.PollIn(file, 0) & LibC.POLLIN);
    }

    [Fact]
    public void Poll_BadAddressAfterAnotherFailure_ReturnsPollsOwnErrno()
    {
        // Tmds.LibC's poll has no SetLastError: the ENOENT of the failed open before must not be reported for it.
        Assert.Throws<SyscallException>(() => Syscalls.Open(Path.Combine(_dir, "missing"), LibC.O_RDONLY));

        var result = Syscalls.Poll(new Span<pollfd>((void*)8, 1), 0);

        Assert.Equal(-LibC.EFAULT, result);
    }

    [Fact]
    public void SetCloseOnExec_DupedFd_SetsFdCloexec()
    {
        using var file = Syscalls.Open(NewFile("dup", 0), LibC.O_RDONLY);
        using var dup = new SafeFdHandle(LibC.dup((int)file.DangerousGetHandle()));
        Assert.Equal(0, FdFlags(dup) & LibC.FD_CLOEXEC);

        Assert.Equal(0, Syscalls.SetCloseOnExec(dup));

        Assert.Equal(LibC.FD_CLOEXEC, FdFlags(dup) & LibC.FD_CLOEXEC);
    }

    private string NewFile(string name, int size)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, new byte[size]);
        return path;
    }

    private static int FdFlags(SafeFdHandle handle)
    {
        var flags = LibC.fcntl((int)handle.DangerousGetHandle(), LibC.F_GETFD);
        Assert.True(flags >= 0, $"fcntl(F_GETFD): errno {LibC.errno}");
        return flags;
    }
}
