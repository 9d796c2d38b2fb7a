using System.Diagnostics;
using Snapshotter.Fuse.Protocol;
using Snapshotter.Fuse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Fuse.Tests.Integration;

public sealed class FuseServerInterruptTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Read_SlowFileReaderKilled_InterruptCancelsReadAndReaderExits()
    {
        var slow = new SlowFuseFile("slow.bin", 1 << 20);
        var good = MemoryFuseFile.Random("good.bin", 8192, 1);
        await using var mount = FuseMount.Start(output, null, slow, good);

        // O_DIRECT: a synchronous READ that the kernel interrupts on a signal (readahead READs are background requests).
        using var reader = Process.Start(new ProcessStartInfo("dd", ["if=" + mount.File("slow.bin"), "of=/dev/null", "bs=4096", "count=1", "iflag=direct"])
        {
            RedirectStandardError = true,
        })!;
        await slow.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        reader.Kill();

        await reader.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await slow.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(mount.Server.Statistics.Requests(FuseOpcode.Interrupt) >= 1);
        Assert.Equal(1, mount.Server.Statistics.InterruptedReads);
        Assert.Equal(good.Content, await File.ReadAllBytesAsync(mount.File("good.bin")));
    }

    [Fact]
    public async Task Read_SlowFileReaderSignalled_ReaderGetsEintr()
    {
        var slow = new SlowFuseFile("slow.bin", 1 << 20);
        await using var mount = FuseMount.Start(output, null, slow);

        // dd reports SIGUSR1 with a handler (a non-fatal signal): the interrupted read(2) fails with EINTR.
        using var reader = Process.Start(new ProcessStartInfo("dd", ["if=" + mount.File("slow.bin"), "of=/dev/null", "bs=4096", "count=1", "iflag=direct"])
        {
            RedirectStandardError = true,
        })!;
        await slow.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await slow.Started.Task;
        Process.Start("kill", ["-USR1", reader.Id.ToString()])!.WaitForExit();

        await slow.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, mount.Server.Statistics.InterruptedReads);
        reader.Kill();
        await reader.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Dispose_ReadStuckInFile_CancelledAndServerStops()
    {
        var slow = new SlowFuseFile("slow.bin", 1 << 20);
        var mount = FuseMount.Start(output, null, slow);

        // A buffered read is a background readahead READ: the killed reader does not wait, the READ stays in flight.
        using var reader = Process.Start(new ProcessStartInfo("dd", ["if=" + mount.File("slow.bin"), "of=/dev/null", "bs=4096", "count=1"])
        {
            RedirectStandardError = true,
        })!;
        await slow.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        reader.Kill();
        await reader.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));

        await mount.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        await slow.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(mount.Server.Completion.IsCompleted);
    }
}
