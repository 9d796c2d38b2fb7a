using Snapshotter.Core.Remote;
using Snapshotter.Erofs.Reading;
using Snapshotter.Lazy.Interop;
using Snapshotter.Lazy.Mounting;
using Snapshotter.Lazy.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Lazy.Tests.Mounting;

/// <summary>
/// EROFS mounts of a bootstrap with downloaded blob files on the host kernel: from regular files (6.12+) and through
/// loop devices (the path for older kernels), checked with findmnt and sysfs.
/// </summary>
[Collection(RegistryImageCollection.Name)]
public sealed class ErofsMountsTests(RegistryImageFixture fixture, ITestOutputHelper output)
{
    /// <summary>A component whose cache holds the image's complete blob files (mounted once and unmounted again).</summary>
    private async Task<(LazyHarness Harness, RemoteImage Image, IReadOnlyList<string> Blobs)> DownloadAsync()
    {
        var harness = await LazyHarness.StartAsync(output);
        var image = await harness.ResolveAsync(fixture.Reference);
        var mnt = harness.NewMountPoint("download");
        await harness.Lazy.MountAsync(image, mnt);
        await harness.Lazy.UnmountAsync(mnt);
        using var bootstrap = ErofsImage.Open(image.BootstrapPath);
        var blobs = bootstrap.Devices.Select(d => Path.Combine(harness.BlobDirectory, d.Tag)).ToList();
        Assert.All(blobs, b => Assert.True(File.Exists(b), $"{b} was not downloaded"));
        return (harness, image, blobs);
    }

    private static async Task<IReadOnlyList<(string Device, string BackingFile)>> LoopDevicesGoneAsync(IEnumerable<string> files)
    {
        // Autoclear runs when the last opener (the unmounted superblock) lets go; the kernel may finish it asynchronously.
        IReadOnlyList<(string, string)> left = [];
        for (var i = 0; i < 100; i++)
        {
            left = HostMounts.LoopDevicesBacking(files);
            if (left.Count == 0)
            {
                break;
            }

            await Task.Delay(50);
        }

        return left;
    }

    [Fact]
    public void ProbeFileBacked_ThisKernel_TrueAndLeavesNothingBehind()
    {
        HostRequirements.Mounting();
        using var dir = new Registry.Tests.Infrastructure.TempDirectory("lazy-tests-probe");

        var fileBacked = ErofsMounts.ProbeFileBacked(dir.Path, out var reason);

        Assert.True(fileBacked, reason);
        Assert.Equal("the kernel mounts EROFS from regular files", reason);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
        Assert.Empty(HostMounts.MountPointsUnder(dir.Path));
    }

    [Fact]
    public async Task Mount_LoopDevices_TreeMatchesAndTheDevicesAreClearedAfterUnmount()
    {
        HostRequirements.LoopControl();
        var (harness, image, blobs) = await DownloadAsync();
        await using var _ = harness;
        var files = blobs.Append(image.BootstrapPath).ToList();
        Assert.Empty(HostMounts.LoopDevicesBacking(files));
        var mnt = harness.NewMountPoint("loop");

        ErofsMounts.Mount(image.BootstrapPath, blobs, mnt, fileBacked: false, Path.Combine(harness.Root, "links"));
        try
        {
            Assert.Equal(["erofs"], HostMounts.TypesAt(mnt));
            var attached = HostMounts.LoopDevicesBacking(files);
            output.WriteLine(string.Join(", ", attached.Select(l => $"{l.Device} <- {l.BackingFile}")));
            Assert.Equal(files.Order(StringComparer.Ordinal), attached.Select(l => l.BackingFile).Order(StringComparer.Ordinal));
            var source = HostTool.Run("findmnt", "--noheadings", "--output", "SOURCE", "--mountpoint", mnt).Trim();
            Assert.Contains(source, attached.Where(l => l.BackingFile == image.BootstrapPath).Select(l => l.Device));
            TreeAssert.Matches(fixture.Image, mnt);
        }
        finally
        {
            MountTable.Unmount(mnt);
        }

        Assert.False(HostMounts.IsMounted(mnt));
        Assert.Empty(await LoopDevicesGoneAsync(files));
    }

    [Fact]
    public async Task Mount_LoopDevicesButMountFails_NoLoopDeviceLeft()
    {
        HostRequirements.LoopControl();
        var (harness, image, blobs) = await DownloadAsync();
        await using var _ = harness;
        var files = blobs.Append(image.BootstrapPath).ToList();
        var missing = Path.Combine(harness.Root, "no-such-mount-point");

        var e = Assert.Throws<NativeCallException>(() => ErofsMounts.Mount(image.BootstrapPath, blobs, missing, fileBacked: false, Path.Combine(harness.Root, "links")));

        Assert.Equal("mount", e.Call);
        Assert.Contains(missing, e.Message);
        Assert.Empty(await LoopDevicesGoneAsync(files));
    }

    [Fact]
    public async Task Mount_FileBacked_TreeMatchesWithoutLoopDevices()
    {
        var (harness, image, blobs) = await DownloadAsync();
        await using var _ = harness;
        var mnt = harness.NewMountPoint("files");

        ErofsMounts.Mount(image.BootstrapPath, blobs, mnt, fileBacked: true, Path.Combine(harness.Root, "links"));
        try
        {
            Assert.Equal(["erofs"], HostMounts.TypesAt(mnt));
            Assert.Empty(HostMounts.LoopDevicesBacking(blobs.Append(image.BootstrapPath)));
            Assert.False(Directory.Exists(Path.Combine(harness.Root, "links")), "short links are only for options over a page");
            TreeAssert.Matches(fixture.Image, mnt);
        }
        finally
        {
            Assert.True(MountTable.Unmount(mnt));
        }
    }

    [Fact]
    public async Task Mount_FileBackedDevicePathsOverAPage_MountsThroughShortLinks()
    {
        var (harness, image, blobs) = await DownloadAsync();
        await using var _ = harness;

        // Each blob reached through a path of ~2,100 characters: together over the page mount(2) copies.
        var deep = harness.Root;
        for (var i = 0; i < 9; i++)
        {
            deep = Path.Combine(deep, new string((char)('a' + i), 230));
        }

        Directory.CreateDirectory(deep);
        var longPaths = blobs.Select((b, i) =>
        {
            var link = Path.Combine(deep, $"blob{i}");
            File.CreateSymbolicLink(link, b);
            return link;
        }).ToList();
        Assert.True(string.Join(',', longPaths.Select(p => "device=" + p)).Length > 4000);
        var links = Path.Combine(harness.Root, "links");
        var mnt = harness.NewMountPoint("long");

        ErofsMounts.Mount(image.BootstrapPath, longPaths, mnt, fileBacked: true, links);
        try
        {
            Assert.Equal(blobs.Count, Directory.EnumerateFileSystemEntries(links).Count());
            TreeAssert.Matches(fixture.Image, mnt);
        }
        finally
        {
            Assert.True(MountTable.Unmount(mnt));
        }
    }
}
