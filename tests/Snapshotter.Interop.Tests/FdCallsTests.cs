using Tmds.Linux;

namespace Snapshotter.Interop.Tests;

/// <summary>The one fd call wrapper against real files: results, -errno, short reads at the end, disposed handles.</summary>
public sealed unsafe class FdCallsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("interop-fd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Full_WriteThenReadPastTheEnd_WritesAllAndReadsWhatThereIs()
    {
        using var file = Open("f", LibC.O_RDWR | LibC.O_CREAT);
        var data = Enumerable.Range(0, 10_000).Select(i => (byte)i).ToArray();
        var back = new byte[20_000];
        fixed (byte* d = data, b = back)
        {
            Assert.Equal(data.Length, FdCalls.Full(file, &FdCalls.Pwrite, d, data.Length, 100, isWrite: true));
            Assert.Equal(data.Length, FdCalls.Full(file, &FdCalls.Pread, b, back.Length, 100, isWrite: false));
        }

        Assert.Equal(data, back[..data.Length]);
    }

    [Fact]
    public void Call_WriteOnReadOnlyFd_ReturnsMinusEbadf()
    {
        File.WriteAllText(Path.Combine(_dir, "ro"), "x");
        using var file = Open("ro", LibC.O_RDONLY);
        byte one = 1;

        Assert.Equal(-LibC.EBADF, FdCalls.Call(file, &FdCalls.Write, (nint)(&one), 1));
    }

    [Fact]
    public void Call_DisposedHandle_ThrowsObjectDisposed()
    {
        var file = Open("d", LibC.O_RDWR | LibC.O_CREAT);
        file.Dispose();

        Assert.Throws<ObjectDisposedException>(() => FdCalls.Call(file, &FdCalls.Write, 0, 0));
    }

    [Fact]
    public void Call_Ioctl_PassesRequestAndArgument()
    {
        using var file = Open("i", LibC.O_RDWR | LibC.O_CREAT);
        File.WriteAllBytes(Path.Combine(_dir, "i"), new byte[123]);
        int available;

        // FIONREAD on a regular file: the bytes from the offset to the end.
        Assert.Equal(0, FdCalls.Call(file, &FdCalls.Ioctl, (nint)(&available), 0x541B));
        Assert.Equal(123, available);
    }

    [Fact]
    public void SyscallException_NamesCallSubjectAndErrno()
    {
        var e = new SyscallException("open", LibC.ENOENT, "/nowhere");

        Assert.Equal(("open", LibC.ENOENT), (e.Syscall, e.ErrorNumber));
        Assert.Equal("open /nowhere: No such file or directory (errno 2)", e.Message);
    }

    [Fact]
    public void CString_From_IsUtf8WithOneTrailingNul()
    {
        Assert.Equal("ä/b\0"u8.ToArray(), CString.From("ä/b"));
    }

    private SafeFdHandle Open(string name, int flags)
    {
        fixed (byte* p = CString.From(Path.Combine(_dir, name)))
        {
            var fd = LibC.open(p, flags | LibC.O_CLOEXEC, 0x1A4);
            Assert.True(fd >= 0, $"open: errno {LibC.errno}");
            return new SafeFdHandle(fd);
        }
    }
}
