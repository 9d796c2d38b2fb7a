using Tmds.Linux;

namespace Snapshotter.Interop.Tests;

/// <summary>mount(2)/umount2(2) against the real kernel: the -errno values and the errno each failure reports.</summary>
public sealed class MountCallsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("interop-mount-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Unmount_DirectoryThatIsNoMountPoint_ReturnsMinusEinval()
    {
        Assert.Equal(-LibC.EINVAL, MountCalls.Unmount(_dir, detach: false));
    }

    [Fact]
    public void Mount_UnknownFilesystemType_ThrowsNamingMountAndEnodev()
    {
        var e = Assert.Throws<SyscallException>(() => MountCalls.Mount("none", _dir, "no-such-fs", 0, "ro"));

        Assert.Equal("mount", e.Syscall);
        Assert.Equal(LibC.ENODEV, e.ErrorNumber);
        Assert.Contains($"no-such-fs none on {_dir} (ro)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MountThenUnmount_Tmpfs_MountsAndDetaches()
    {
        MountCalls.Mount("none", _dir, "tmpfs", 0, "size=1m");
        try
        {
            File.WriteAllText(Path.Combine(_dir, "probe"), "x");
            Assert.Contains(File.ReadAllLines("/proc/self/mounts"), l => l.Split(' ')[1] == _dir);
        }
        finally
        {
            Assert.Equal(0, MountCalls.Unmount(_dir, detach: true));
        }

        Assert.False(File.Exists(Path.Combine(_dir, "probe")));
    }
}
