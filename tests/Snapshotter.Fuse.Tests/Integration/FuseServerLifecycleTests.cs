using System.Diagnostics;
using Snapshotter.Fuse.Interop;
using Snapshotter.Fuse.Tests.Infrastructure;
using Snapshotter.Interop;
using Xunit.Abstractions;

namespace Snapshotter.Fuse.Tests.Integration;

public sealed class FuseServerLifecycleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Dispose_Idle_UnmountsAndEndsSession()
    {
        FuseEnvironment.RequireFuse();
        using var dir = new TempDirectory("fuse-mnt");
        var server = FuseServer.Mount(dir.Path, new FuseServerOptions(), new TestOutputLogger(output));
        server.Add(MemoryFuseFile.Random("a", 10, 1));
        Assert.True(FuseEnvironment.IsMounted(dir.Path));
        Assert.True(server.ProtocolMinor >= 37);

        await server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(FuseEnvironment.IsMounted(dir.Path));
        Assert.True(server.Completion.IsCompletedSuccessfully);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task Dispose_FileHeldOpen_DetachesAndOpenFileFails()
    {
        FuseEnvironment.RequireFuse();
        using var dir = new TempDirectory("fuse-mnt");
        var file = MemoryFuseFile.Random("a", 1 << 20, 1);
        var server = FuseServer.Mount(dir.Path, new FuseServerOptions { KeepCache = false }, new TestOutputLogger(output));
        server.Add(file);
        using var held = File.OpenHandle(Path.Combine(dir.Path, "a"));

        await server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(15));

        Assert.False(FuseEnvironment.IsMounted(dir.Path));
        Assert.True(server.Completion.IsCompleted);
        Assert.ThrowsAny<IOException>(() => RandomAccess.Read(held, new byte[4096], 512 * 1024));
    }

    [Fact]
    public async Task FindStale_ServerGoneWithoutUnmount_DetectedAndCleanedThenMountableAgain()
    {
        FuseEnvironment.RequireFuse();
        using var dir = new TempDirectory("fuse-stale");
        var mountPoint = Directory.CreateDirectory(Path.Combine(dir.Path, "mnt")).FullName;
        var server = FuseServer.Mount(mountPoint, new FuseServerOptions(), new TestOutputLogger(output));
        server.Add(MemoryFuseFile.Random("a", 10, 1));
        Assert.False(FuseMounts.IsStale(mountPoint));
        Assert.Empty(FuseMounts.FindStale(dir.Path));

        await server.AbandonAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(-Errno.ENOTCONN, Syscalls.StatVfs(mountPoint));
        Assert.Equal(Errno.ENOTCONN, Assert.Throws<SyscallException>(() => Reads.Pread(Path.Combine(mountPoint, "a"), 0, new byte[10])).ErrorNumber);
        Assert.Equal([mountPoint], FuseMounts.FindStale(dir.Path));
        Assert.Equal(1, FuseMounts.CleanStale(dir.Path, new TestOutputLogger(output)));
        Assert.False(FuseEnvironment.IsMounted(mountPoint));
        Assert.Empty(FuseMounts.FindStale(dir.Path));
        var again = FuseServer.Mount(mountPoint, new FuseServerOptions(), new TestOutputLogger(output));
        var file = MemoryFuseFile.Random("b", 100, 2);
        again.Add(file);
        Assert.Equal(file.Content, await File.ReadAllBytesAsync(Path.Combine(mountPoint, "b")));
        await again.DisposeAsync();
    }

    [Fact]
    public async Task FindStale_ServerProcessKilled_MountReportsEnotconnAndIsCleaned()
    {
        FuseEnvironment.RequireFuse();
        using var dir = new TempDirectory("fuse-crash");
        var mountPoint = Directory.CreateDirectory(Path.Combine(dir.Path, "mnt")).FullName;
        var blob = Path.Combine(dir.Path, "blob");
        var content = new byte[1 << 20];
        new Random(1).NextBytes(content);
        await File.WriteAllBytesAsync(blob, content);

        using var child = Process.Start(new ProcessStartInfo("dotnet", [BenchmarkAssembly(), "serve", mountPoint, "blob.img=" + blob])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            var ready = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal("ready", ready);
            Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(mountPoint, "blob.img")));

            child.Kill();
            await child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill();
            }
        }

        var stat = Task.Run(() => Syscalls.StatVfs(mountPoint));
        Assert.Equal(-Errno.ENOTCONN, await stat.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal([mountPoint], FuseMounts.FindStale(dir.Path));
        Assert.Equal(1, FuseMounts.CleanStale(dir.Path, new TestOutputLogger(output)));
        Assert.False(FuseEnvironment.IsMounted(mountPoint));
    }

    [Fact]
    public void Mount_DeviceMissing_FailsNamingTheDevice()
    {
        using var dir = new TempDirectory("fuse-mnt");

        var e = Assert.ThrowsAny<IOException>(() => FuseServer.Mount(dir.Path, new FuseServerOptions { DevicePath = "/dev/no-such-fuse" }, new TestOutputLogger(output)));

        Assert.Contains("/dev/no-such-fuse", e.Message);
        Assert.False(FuseEnvironment.IsMounted(dir.Path));
    }

    private static string BenchmarkAssembly()
    {
        // tests/Snapshotter.Fuse.Tests/bin/<Configuration>/net10.0 -> bench/fuse/bin/<Configuration>/net10.0
        var testDir = AppContext.BaseDirectory.TrimEnd('/');
        var framework = Path.GetFileName(testDir);
        var configuration = Path.GetFileName(Path.GetDirectoryName(testDir)!);
        var root = Path.GetFullPath(Path.Combine(testDir, "..", "..", "..", "..", ".."));
        var path = Path.Combine(root, "bench", "fuse", "bin", configuration, framework, "Snapshotter.Fuse.Benchmarks.dll");
        if (!File.Exists(path))
        {
            Assert.Fail($"{path} is missing: build bench/fuse (the test project builds it as a dependency)");
        }

        return path;
    }
}
