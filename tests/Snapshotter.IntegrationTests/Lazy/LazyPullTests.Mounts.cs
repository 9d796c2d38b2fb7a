using Snapshotter.IntegrationTests.Fixtures;

namespace Snapshotter.IntegrationTests.Lazy;

/// <summary>The one shared lazy mount per image, and what image removal leaves behind.</summary>
public abstract partial class LazyPullTests
{
    [Fact]
    public async Task Run_TwoContainersOfOneLazyImage_ShareOneLazyMountUntilTheLastIsRemoved()
    {
        var ctr = NewCtr("share");
        (await RpullAsync(ctr, Images.LazyReference)).EnsureSuccess();
        string first = ContainerId();
        string second = ContainerId();

        await StartSleeperAsync(ctr, Images.LazyReference, first);
        await StartSleeperAsync(ctr, Images.LazyReference, second);

        var lazy = Assert.Single(LazyMounts());
        Assert.Equal(new[] { lazy.MountPoint }, Directory.GetDirectories(Lazy.MountsDirectory));
        foreach (string id in new[] { first, second })
        {
            // Each container's rootfs is an overlay whose lowest layer is the one lazy mount.
            var rootfs = Assert.Single(Mounts.EntriesUnder(Fixture.ContainerdState), m => m.FsType == "overlay" && m.MountPoint.EndsWith($"/{id}/rootfs", StringComparison.Ordinal));
            Assert.Contains(lazy.MountPoint, rootfs.SuperOptions, StringComparison.Ordinal);

            // What the container sees through its own root: content and the xattr (busybox has no getfattr: the host reads it there).
            string root = $"/proc/{await TaskPidAsync(ctr, id)}/root";
            Assert.Equal(LazyTestImage.SmallFileContent, (await File.ReadAllTextAsync(root + LazyTestImage.SmallFile)).Trim());
            var xattr = (await ProcessRunner.RunAsync("getfattr", ["--absolute-names", "-e", "hex", "-n", LazyTestImage.XattrName, root + LazyTestImage.XattrFile])).EnsureSuccess();
            string hex = "0x" + Convert.ToHexStringLower(System.Text.Encoding.UTF8.GetBytes(LazyTestImage.XattrValue));
            Assert.Contains($"{LazyTestImage.XattrName}={hex}", Lines(xattr));
        }

        await RemoveContainerAsync(ctr, first);
        await Fixture.CollectGarbageAsync();
        Assert.Equal(lazy, Assert.Single(LazyMounts()));
        var still = await ctr.RunAsync("tasks", "exec", "--exec-id", "x", second, "/bin/busybox", "cat", LazyTestImage.SmallFile);
        Assert.True(still.ExitCode == 0 && still.StdOut.Trim() == LazyTestImage.SmallFileContent, still.ToString());

        await RemoveContainerAsync(ctr, second);
        await Fixture.CollectGarbageAsync();
        Assert.Empty(LazyMounts());
        Assert.Empty(Directory.GetDirectories(Lazy.MountsDirectory));
    }

    [Fact]
    public async Task RemoveImage_CtrAndCriThenGc_LeaveNoMountNoMountDirectoryNoCachedBlob()
    {
        await RemoveEverythingAsync();
        var ctr = NewCtr("remove");
        (await RpullAsync(ctr, Images.LazyReference)).EnsureSuccess();
        var run = await RunAsync(ctr, Images.LazyReference, "/bin/busybox", "cat", LazyTestImage.SmallFile, LazyTestImage.BigFile);
        Assert.True(run.ExitCode == 0, run.ToString());
        await CriPullAsync(Images.LazyReference);
        var criRun = await RunAsync(CriCtr(), Images.LazyReference, "/bin/busybox", "cat", LazyTestImage.SmallFile);
        Assert.True(criRun.ExitCode == 0 && criRun.StdOut.Trim() == LazyTestImage.SmallFileContent, criRun.ToString());
        Assert.NotEmpty(Directory.GetFiles(Lazy.BlobCacheDirectory));

        (await ctr.RunAsync("images", "rm", "--sync", Images.LazyReference)).EnsureSuccess();
        using (var cri = Lazy.Cri())
        {
            await cri.RemoveAsync(Images.LazyReference);
            Assert.Null(await cri.StatusAsync(Images.LazyReference));
        }

        await Fixture.CollectGarbageAsync();

        Assert.Empty(CtrOutput.Ls(await ctr.SnapshotsOkAsync(Snapshotter, "ls")));
        Assert.Empty(CtrOutput.Ls(await CriCtr().SnapshotsOkAsync(Snapshotter, "ls")));
        var mounted = Mounts.EntriesUnder(Lazy.Snapshotter.Root);
        Assert.True(mounted.Count == 0, $"still mounted under {Lazy.Snapshotter.Root}: {string.Join(", ", mounted.Select(m => $"{m.FsType} {m.MountPoint}"))}");
        Assert.Empty(Directory.Exists(Lazy.MountsDirectory) ? Directory.GetFileSystemEntries(Lazy.MountsDirectory) : []);
        Assert.Empty(Directory.GetFiles(Lazy.BlobCacheDirectory));
        await AssertSnapshotDirectoriesMatchAsync();
    }

    /// <summary>The EROFS lazy mounts under the service's mounts directory.</summary>
    protected IReadOnlyList<MountEntry> LazyMounts() =>
        Mounts.EntriesUnder(Lazy.MountsDirectory).Where(m => m.FsType == "erofs").ToList();

    /// <summary>Every snapshot containerd lists has exactly one directory under the service's root, nothing more.</summary>
    protected async Task AssertSnapshotDirectoriesMatchAsync()
    {
        int snapshots = await Fixture.CountAllSnapshotsAsync();
        string[] dirs = Directory.GetDirectories(Path.Combine(Lazy.Snapshotter.Root, "snapshots"));
        Assert.True(snapshots == dirs.Length, $"{snapshots} snapshots listed but {dirs.Length} directories: {string.Join(", ", dirs.Select(Path.GetFileName))}");
    }

    /// <summary>Removes every container and image in every namespace of this containerd, then collects garbage.</summary>
    protected async Task RemoveEverythingAsync()
    {
        string namespaces = (await Fixture.Ctr("default").RunAsync("namespaces", "ls", "-q")).EnsureSuccess().StdOut;
        foreach (string ns in namespaces.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            await RemoveAllAsync(Fixture.Ctr(ns));
        }

        await Fixture.CollectGarbageAsync();
    }

    /// <summary><c>ctr run -d</c> of a container that sleeps, holding its rootfs (and the image's lazy mount) until removed.</summary>
    protected async Task StartSleeperAsync(Ctr ctr, string reference, string id) =>
        (await ctr.RunAsync("run", "-d", "--snapshotter", Snapshotter, reference, id, "/bin/busybox", "sleep", "600")).EnsureSuccess();

    /// <summary>Kills and deletes the task, then the container with its snapshot.</summary>
    protected static async Task RemoveContainerAsync(Ctr ctr, string id)
    {
        (await ctr.RunAsync("tasks", "rm", "-f", id)).EnsureSuccess();
        (await ctr.RunAsync("containers", "rm", id)).EnsureSuccess();
    }

    /// <summary>The host pid of a running container's init process (<c>ctr tasks ls</c>: TASK PID STATUS).</summary>
    protected static async Task<int> TaskPidAsync(Ctr ctr, string id)
    {
        foreach (string line in Lines(await ctr.RunAsync("tasks", "ls")).Skip(1))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 2 && f[0] == id)
            {
                return int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"container {id} has no task in namespace {ctr.Namespace}");
    }
}
