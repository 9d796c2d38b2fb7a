using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Core.Interop;
using Snapshotter.Core.Overlay;
using Snapshotter.Core.Snapshots;
using Snapshotter.Core.Tests.Interop;
using Tmds.Linux;

namespace Snapshotter.Core.Tests.Overlay;

/// <summary>Mounts what the snapshotter returns with the real kernel (needs root and overlayfs, both present here).</summary>
public sealed class OverlayMountTests : IAsyncLifetime
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    private readonly string _root = Path.Combine(Path.GetTempPath(), "core-mount-" + Guid.NewGuid().ToString("N"));
    private readonly Stack<string> _mounted = new();
    private OverlaySnapshotter _snapshotter = null!;

    public async Task InitializeAsync()
    {
        _snapshotter = await OverlaySnapshotter.OpenAsync(Path.Combine(_root, "state"), NullLoggerFactory.Instance);
    }

    public async Task DisposeAsync()
    {
        try
        {
            while (_mounted.TryPop(out var target))
            {
                TestLibc.Unmount(target);
            }
        }
        finally
        {
            await _snapshotter.DisposeAsync();
            Directory.Delete(_root, recursive: true);
        }
    }

    private string MountAt(IReadOnlyList<Mount> mounts)
    {
        var target = Path.Combine(_root, "mnt-" + _mounted.Count);
        Directory.CreateDirectory(target);
        TestLibc.Mount(Assert.Single(mounts), target);
        _mounted.Push(target);
        return target;
    }

    private void UnmountLast()
    {
        TestLibc.Unmount(_mounted.Pop());
    }

    [Fact]
    public async Task Prepare_MountedChild_SeesParentFilesAndDeletionIsWhiteout()
    {
        var baseDir = MountAt(await _snapshotter.PrepareAsync("base-key", "", NoLabels));
        await File.WriteAllTextAsync(Path.Combine(baseDir, "hello"), "from base");
        Directory.CreateDirectory(Path.Combine(baseDir, "etc"));
        await File.WriteAllTextAsync(Path.Combine(baseDir, "etc", "conf"), "v1");
        UnmountLast();
        await _snapshotter.CommitAsync("base", "base-key", NoLabels);

        var childMounts = await _snapshotter.PrepareAsync("child-key", "base", NoLabels);
        var child = MountAt(childMounts);
        Assert.Equal("from base", await File.ReadAllTextAsync(Path.Combine(child, "hello")));
        File.Delete(Path.Combine(child, "hello"));
        await File.WriteAllTextAsync(Path.Combine(child, "etc", "conf"), "v2");
        await File.WriteAllTextAsync(Path.Combine(child, "new"), "from child");
        UnmountLast();

        var upper = childMounts[0].Options.Single(o => o.StartsWith("upperdir=", StringComparison.Ordinal))["upperdir=".Length..];
        var whiteout = Syscalls.LStatx(Path.Combine(upper, "hello"));
        Assert.Equal(LibC.S_IFCHR, LibC.S_IFMT & whiteout.stx_mode);
        Assert.Equal(0u, whiteout.stx_rdev_major);
        Assert.Equal(0u, whiteout.stx_rdev_minor);
        Assert.Equal("v2", await File.ReadAllTextAsync(Path.Combine(upper, "etc", "conf")));

        await _snapshotter.CommitAsync("child", "child-key", NoLabels);
        var view = MountAt(await _snapshotter.ViewAsync("view", "child", NoLabels));
        Assert.False(File.Exists(Path.Combine(view, "hello")));
        Assert.Equal("from child", await File.ReadAllTextAsync(Path.Combine(view, "new")));
        Assert.Equal("v2", await File.ReadAllTextAsync(Path.Combine(view, "etc", "conf")));
    }

    [Fact]
    public async Task View_Mounted_IsReadOnly()
    {
        var l1 = MountAt(await _snapshotter.PrepareAsync("k1", "", NoLabels));
        await File.WriteAllTextAsync(Path.Combine(l1, "one"), "1");
        UnmountLast();
        await _snapshotter.CommitAsync("l1", "k1", NoLabels);
        var l2 = MountAt(await _snapshotter.PrepareAsync("k2", "l1", NoLabels));
        await File.WriteAllTextAsync(Path.Combine(l2, "two"), "2");
        UnmountLast();
        await _snapshotter.CommitAsync("l2", "k2", NoLabels);

        var empty = MountAt(await _snapshotter.ViewAsync("v0", "", NoLabels));
        var single = MountAt(await _snapshotter.ViewAsync("v1", "l1", NoLabels));
        var layered = MountAt(await _snapshotter.ViewAsync("v2", "l2", NoLabels));

        Assert.Equal("1", await File.ReadAllTextAsync(Path.Combine(single, "one")));
        Assert.Equal("1", await File.ReadAllTextAsync(Path.Combine(layered, "one")));
        Assert.Equal("2", await File.ReadAllTextAsync(Path.Combine(layered, "two")));
        foreach (var dir in new[] { empty, single, layered })
        {
            var e = Assert.ThrowsAny<IOException>(() => File.WriteAllText(Path.Combine(dir, "x"), "x"));
            Assert.Contains("Read-only file system", e.Message);
        }
    }

    [Fact]
    public async Task Remove_AfterKernelWrites_DeletesWhiteoutsAndReadOnlyDirs()
    {
        var a = MountAt(await _snapshotter.PrepareAsync("k1", "", NoLabels));
        Directory.CreateDirectory(Path.Combine(a, "ro", "deep"));
        await File.WriteAllTextAsync(Path.Combine(a, "ro", "deep", "f"), "f");
        await File.WriteAllTextAsync(Path.Combine(a, "gone"), "g");
        Syscalls.Chmod(Path.Combine(a, "ro"), 0x16D); // 0555
        UnmountLast();
        await _snapshotter.CommitAsync("l1", "k1", NoLabels);
        var mounts = await _snapshotter.PrepareAsync("k2", "l1", NoLabels);
        var b = MountAt(mounts);
        File.Delete(Path.Combine(b, "gone"));
        UnmountLast();
        var snapshotDir = Path.GetDirectoryName(mounts[0].Options.Single(o => o.StartsWith("upperdir=", StringComparison.Ordinal))["upperdir=".Length..])!;

        await _snapshotter.RemoveAsync("k2");
        await _snapshotter.RemoveAsync("l1");

        Assert.False(Directory.Exists(snapshotDir));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_snapshotter.Root, "snapshots")));
    }

    [Fact]
    public async Task Usage_AfterWritingThroughOverlay_CountsOnlyOwnLayer()
    {
        var a = MountAt(await _snapshotter.PrepareAsync("k1", "", NoLabels));
        await File.WriteAllBytesAsync(Path.Combine(a, "big"), new byte[1 << 20]);
        UnmountLast();
        await _snapshotter.CommitAsync("l1", "k1", NoLabels);
        var b = MountAt(await _snapshotter.PrepareAsync("k2", "l1", NoLabels));
        await File.WriteAllTextAsync(Path.Combine(b, "small"), "s");
        UnmountLast();

        var parent = await _snapshotter.UsageAsync("l1");
        var child = await _snapshotter.UsageAsync("k2");

        Assert.True(parent.Size >= 1 << 20, $"parent size {parent.Size}");
        Assert.Equal(2, parent.Inodes);
        Assert.True(child.Size < 1 << 16, $"child size {child.Size}");
        Assert.Equal(2, child.Inodes);
    }
}
