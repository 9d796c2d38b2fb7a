using System.Diagnostics;
using Snapshotter.Lazy.Tests.Infrastructure;
using Snapshotter.Registry;
using Snapshotter.Registry.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Lazy.Tests.Fuse;

/// <summary>
/// A reader that catches signals (dd(1) prints its statistics on SIGUSR1 and carries on) is signalled while its read
/// of a lazy image waits for a slow fetch: the read must still succeed. The kernel interrupts a synchronous FUSE
/// request on any signal, and EROFS turns the interrupted blob-file read into EIO; the fuse mode's reads of blob files
/// must be background requests, which the kernel never interrupts.
/// </summary>
[Collection(FuseRegistryCollection.Name)]
public sealed class FuseSignalTests(FuseRegistryFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Read_ReaderSignalledWhileTheFetchStalls_ReadSucceedsOnceTheFetchIsRetried()
    {
        // One stalled attempt (3 s, then the client's retry succeeds) within a fetch timeout of 20 s.
        var client = new RegistryClientOptions { HostsDirectory = null, AttemptTimeout = TimeSpan.FromSeconds(3), OverallTimeout = TimeSpan.FromSeconds(20) };
        await using var harness = await LazyHarness.StartAsync(output, LazyMode.Fuse, client, fallBack: false);
        var mnt = await harness.MountAsync(fixture.ProxyReference);
        var big = Path.Combine(mnt, LazyTestImage.BigFile);
        var expected = fixture.Image.Files[LazyTestImage.BigFile];
        var offset = expected.Length - (3 * 1024 * 1024);
        Assert.Equal(0, (await ReadProbe.ReadAsync(big, 0, 4096, TimeSpan.FromSeconds(30))).Errno);

        fixture.Proxy.Enqueue(new Fault(FaultKind.StallBody));
        var psi = new ProcessStartInfo("dd") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { $"if={big}", "of=/dev/null", "bs=4096", "count=1", $"skip={offset}", "iflag=skip_bytes" })
        {
            psi.ArgumentList.Add(arg);
        }

        using var dd = Process.Start(psi)!;
        var stderr = dd.StandardError.ReadToEndAsync();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 5 && !dd.HasExited; i++)
        {
            await Task.Delay(400);
            HostTool.TryRun("kill", "-USR1", dd.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await dd.WaitForExitAsync(timeout.Token);
        var error = await stderr;
        output.WriteLine($"dd exited {dd.ExitCode} after {watch.Elapsed.TotalSeconds:F1} s: {error}");
        Assert.True(watch.Elapsed > TimeSpan.FromSeconds(1.5), $"dd finished after {watch.Elapsed.TotalSeconds:F1} s: the fetch did not stall, so nothing was tested");
        Assert.True(dd.ExitCode == 0, $"the signalled read failed (dd exited {dd.ExitCode}): {error}");
        Assert.Equal(0, fixture.Proxy.PendingFaults);
    }
}
