namespace Snapshotter.Benchmarks.Measurement;

/// <summary>
/// CPU spent by our service and by containerd over a set of calls, accumulated phase by phase, to tell where a call's
/// time goes on a machine with few CPUs (what one process burns, another waits for).
/// </summary>
internal sealed class CpuCost(int? servicePid, int containerdPid)
{
    private const double MicrosecondsPerTick = 10_000;
    private long _calls;
    private long _serviceTicks;
    private long _serviceSwitches;
    private long _containerdTicks;

    /// <summary>Runs <paramref name="phase"/> (<paramref name="calls"/> calls) and adds what both processes spent meanwhile.</summary>
    public async Task<T> MeasureAsync<T>(int calls, Func<Task<T>> phase)
    {
        long serviceTicks = servicePid is { } s ? ProcStatus.CpuTicks(s) : 0;
        long serviceSwitches = servicePid is { } w ? ProcStatus.ContextSwitches(w) : 0;
        long containerdTicks = ProcStatus.CpuTicks(containerdPid);
        var result = await phase().ConfigureAwait(false);
        if (servicePid is { } pid)
        {
            _serviceTicks += ProcStatus.CpuTicks(pid) - serviceTicks;
            _serviceSwitches += ProcStatus.ContextSwitches(pid) - serviceSwitches;
        }

        _containerdTicks += ProcStatus.CpuTicks(containerdPid) - containerdTicks;
        _calls += calls;
        return result;
    }

    /// <summary>Our service's CPU per call, in microseconds.</summary>
    public double ServiceCpuUs => _calls == 0 ? 0 : _serviceTicks * MicrosecondsPerTick / _calls;

    /// <summary>Context switches of our service's threads per call.</summary>
    public double ServiceSwitches => _calls == 0 ? 0 : (double)_serviceSwitches / _calls;

    /// <summary>containerd's CPU per call, in microseconds.</summary>
    public double ContainerdCpuUs => _calls == 0 ? 0 : _containerdTicks * MicrosecondsPerTick / _calls;
}
