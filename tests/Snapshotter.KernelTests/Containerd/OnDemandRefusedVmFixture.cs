using System.Diagnostics;
using Snapshotter.IntegrationTests.Fixtures;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// The service in <c>--lazy-mode fscache</c> while another process holds <c>/dev/cachefiles</c> open (as a running
/// cachefilesd or another lazy-pull daemon would; the kernel allows one opener and answers EBUSY): the on-demand mode is
/// refused at start and the service must fall back to the next mode that works in this 6.1 guest (blob-fetch through
/// loop devices: 6.1 cannot mount EROFS from regular files, which rules out fuse) and count the fallback.
/// </summary>
public sealed class OnDemandRefusedVmFixture(LazyVmImages images) : VmLazyFixture(images, "fscache")
{
    private DaemonProcess? _holder;

    /// <summary>The process holding the device (its pid is in its first log line).</summary>
    internal DaemonProcess Holder => _holder ?? throw new InvalidOperationException("the fixture is not started");

    protected override async Task BeforeStartAsync()
    {
        _holder = DaemonProcess.Start("cachefiles holder", "/bin/sh", ["-c", "exec 3<>/dev/cachefiles && echo holding /dev/cachefiles && exec sleep 3600"]);
        var watch = Stopwatch.StartNew();
        while (!_holder.Logs().Contains("holding /dev/cachefiles", StringComparison.Ordinal))
        {
            if (_holder.HasExited || watch.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"could not hold /dev/cachefiles open (is another daemon holding it?):\n{_holder.Logs()}");
            }

            await Task.Delay(100);
        }
    }

    protected override async Task AfterStopAsync()
    {
        if (_holder is not null)
        {
            await _holder.KillAsync();
            _holder.Dispose();
        }
    }
}
