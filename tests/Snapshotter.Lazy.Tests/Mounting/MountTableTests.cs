using Snapshotter.Lazy.Mounting;
using Snapshotter.Lazy.Tests.Infrastructure;
using Snapshotter.Registry.Tests.Infrastructure;

namespace Snapshotter.Lazy.Tests.Mounting;

/// <summary>The mount table against real tmpfs/ramfs mounts made with mount(8).</summary>
public sealed class MountTableTests : IDisposable
{
    private readonly TempDirectory _dir;

    public MountTableTests()
    {
        HostRequirements.Root();
        _dir = new TempDirectory("lazy-tests-mounttable");
    }

    public void Dispose()
    {
        HostMounts.DetachUnder(_dir.Path);
        _dir.Dispose();
    }

    private string NewDir(string name) => Directory.CreateDirectory(_dir.Combine(name)).FullName;

    [Fact]
    public void FileSystemAt_Tmpfs_ReturnsTmpfs()
    {
        var dir = NewDir("tmpfs");
        HostMounts.MountTmpfs(dir);

        Assert.Equal("tmpfs", MountTable.FileSystemAt(dir));
        Assert.Equal("tmpfs", MountTable.FileSystemAt(dir + "/"));
    }

    [Fact]
    public void FileSystemAt_PlainDirectory_Null()
    {
        var dir = NewDir("plain");

        Assert.Null(MountTable.FileSystemAt(dir));
        Assert.Null(MountTable.FileSystemAt(Path.Combine(dir, "missing")));
    }

    [Fact]
    public void FileSystemAt_DirectoryInsideAMount_Null()
    {
        var dir = NewDir("outer");
        HostMounts.MountTmpfs(dir);
        var inner = Directory.CreateDirectory(Path.Combine(dir, "inner")).FullName;

        Assert.Null(MountTable.FileSystemAt(inner));
    }

    [Fact]
    public void FileSystemAt_StackedMounts_TheTopmostType()
    {
        var dir = NewDir("stacked");
        HostMounts.MountTmpfs(dir);
        HostTool.Run("mount", "-t", "ramfs", "ramfs", dir);

        Assert.Equal("ramfs", MountTable.FileSystemAt(dir));
    }

    [Theory]
    [InlineData("with space")]
    [InlineData("tab\there")]
    [InlineData("back\\slash")]
    [InlineData("  two leading spaces")]
    public void FileSystemAt_MountPointNameEscapedInMountinfo_Found(string name)
    {
        var dir = NewDir(name);
        HostMounts.MountTmpfs(dir);

        Assert.Equal("tmpfs", MountTable.FileSystemAt(dir));
        Assert.Equal(1, MountTable.DetachAll(dir));
        Assert.False(HostMounts.IsMounted(dir));
    }

    [Fact]
    public void FileSystemAt_SiblingWithSamePrefix_NotConfused()
    {
        var mounted = NewDir("mnt");
        var sibling = NewDir("mnt2");
        HostMounts.MountTmpfs(mounted);

        Assert.Null(MountTable.FileSystemAt(sibling));
        Assert.Null(MountTable.FileSystemAt(mounted[..^1]));
    }

    [Fact]
    public void DetachAll_ThreeStackedMounts_ReturnsThreeAndLeavesNone()
    {
        var dir = NewDir("three");
        for (var i = 0; i < 3; i++)
        {
            HostMounts.MountTmpfs(dir);
        }

        Assert.Equal(3, HostMounts.TypesAt(dir).Count);

        Assert.Equal(3, MountTable.DetachAll(dir));

        Assert.False(HostMounts.IsMounted(dir));
        Assert.Null(MountTable.FileSystemAt(dir));
    }

    [Fact]
    public void DetachAll_NothingMounted_Zero()
    {
        Assert.Equal(0, MountTable.DetachAll(NewDir("nothing")));
        Assert.Equal(0, MountTable.DetachAll(_dir.Combine("missing")));
    }

    [Fact]
    public void Unmount_Mounted_TrueAndGone()
    {
        var dir = NewDir("one");
        HostMounts.MountTmpfs(dir);

        Assert.True(MountTable.Unmount(dir));

        Assert.False(HostMounts.IsMounted(dir));
        Assert.False(MountTable.Unmount(dir));
    }

    [Fact]
    public void Unmount_BusyMount_DetachedWhileTheOpenFileStaysUsable()
    {
        var dir = NewDir("busy");
        HostMounts.MountTmpfs(dir);
        using var file = new FileStream(Path.Combine(dir, "held"), FileMode.Create, FileAccess.ReadWrite);
        file.Write("still here"u8);
        file.Flush();

        Assert.True(MountTable.Unmount(dir));

        Assert.False(HostMounts.IsMounted(dir));
        file.Position = 0;
        var buffer = new byte[10];
        file.ReadExactly(buffer);
        Assert.Equal("still here"u8.ToArray(), buffer);
    }
}
