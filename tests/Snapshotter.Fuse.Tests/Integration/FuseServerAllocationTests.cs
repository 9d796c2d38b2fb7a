using Snapshotter.Fuse.Protocol;
using Snapshotter.Fuse.Tests.Infrastructure;
using Tmds.Linux;
using Xunit.Abstractions;

namespace Snapshotter.Fuse.Tests.Integration;

public sealed class FuseServerAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Read_ManyCacheMisses_NoBufferOrRequestObjectAllocatedPerRead()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("blob");
        var content = new byte[8 << 20];
        new Random(2).NextBytes(content);
        await File.WriteAllBytesAsync(path, content);
        using var local = new LocalFuseFile("blob.img", path, passthrough: false);
        await using var mount = FuseMount.Start(output, new FuseServerOptions { KeepCache = false, MaxReadahead = 128 * 1024 }, local);
        using var handle = File.OpenHandle(mount.File("blob.img"));
        var fd = (int)handle.DangerousGetHandle();
        var buffer = new byte[128 * 1024];
        ReadAll(handle, fd, buffer); // warm up: JIT, pools, thread-pool threads

        // The best of a few windows: a pooled object per READ would show in every one; the runtime's own occasional
        // allocations under a loaded machine (thread-pool thread injection, contended lock wait objects: up to ~500 bytes
        // per READ measured in one window at load 17) do not repeat in each.
        const int windows = 3;
        const int rounds = 32;
        var best = double.MaxValue;
        for (var window = 0; window < windows && best >= 64; window++)
        {
            var readsBefore = mount.Server.Statistics.Requests(FuseOpcode.Read);
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            for (var round = 0; round < rounds; round++)
            {
                ReadAll(handle, fd, buffer);
            }

            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            var reads = mount.Server.Statistics.Requests(FuseOpcode.Read) - readsBefore;
            output.WriteLine($"window {window}: {reads} READs, {allocated} bytes allocated in the process ({(double)allocated / reads:F1} per READ)");
            Assert.True(reads >= rounds * 60, $"only {reads} READs reached the server");
            best = Math.Min(best, (double)allocated / reads);
        }

        // The whole process is measured (test host included). Buffers, operations and cancellation sources are pooled;
        // what remains (about 18 bytes per READ here) is the runtime's hand-off between the device reader and a read
        // worker (SemaphoreSlim/Lock wake-ups): a rented buffer or a request object per READ would be far above this.
        Assert.True(best < 64, $"{best:F1} bytes allocated per READ in the best of {windows} windows");
    }

    private static void ReadAll(Microsoft.Win32.SafeHandles.SafeFileHandle handle, int fd, byte[] buffer)
    {
        // Drop the file's pages first, so every read below misses and reaches the server.
        // Checked without Assert.Equal, which allocates a comparer inside the measured loop.
        var advice = LibC.posix_fadvise(fd, 0, 0, LibC.POSIX_FADV_DONTNEED);
        if (advice != 0)
        {
            Assert.Fail($"posix_fadvise failed: errno {advice}");
        }
        long offset = 0;
        int n;
        while ((n = RandomAccess.Read(handle, buffer, offset)) > 0)
        {
            offset += n;
        }
    }
}
