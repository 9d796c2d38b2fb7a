namespace Snapshotter.Fuse;

/// <summary>
/// Counters of a <see cref="FuseServer"/> session, updated as requests arrive (tests count requests with them: take
/// a <see cref="Snapshot"/> before and after and compare). Thread-safe; reads are not atomic across counters.
/// </summary>
public sealed class FuseStatistics
{
    private const int Slots = 64;
    private readonly long[] _requests = new long[Slots];
    private long _readBytes;
    private long _readErrors;
    private long _interruptedReads;
    private long _passthroughOpens;

    /// <summary>Requests received with <paramref name="opcode"/> (opcodes beyond 63 are counted in slot 0).</summary>
    public long Requests(FuseOpcode opcode) => Volatile.Read(ref _requests[Slot(opcode)]);

    /// <summary>All requests received, any opcode.</summary>
    public long TotalRequests
    {
        get
        {
            long total = 0;
            for (var i = 0; i < Slots; i++)
            {
                total += Volatile.Read(ref _requests[i]);
            }

            return total;
        }
    }

    /// <summary>Data bytes answered to READ requests.</summary>
    public long ReadBytes => Volatile.Read(ref _readBytes);

    /// <summary>READs answered with an errno other than EINTR (e.g. EIO from <see cref="IFuseFile.ReadAsync(long, Memory{byte}, CancellationToken)"/>).</summary>
    public long ReadErrors => Volatile.Read(ref _readErrors);

    /// <summary>READs answered EINTR because the kernel interrupted them.</summary>
    public long InterruptedReads => Volatile.Read(ref _interruptedReads);

    /// <summary>OPENs answered in passthrough mode.</summary>
    public long PassthroughOpens => Volatile.Read(ref _passthroughOpens);

    /// <summary>A copy of the per-opcode counts (opcodes with a zero count left out).</summary>
    public IReadOnlyDictionary<FuseOpcode, long> Snapshot()
    {
        var result = new Dictionary<FuseOpcode, long>();
        for (var i = 0; i < Slots; i++)
        {
            var count = Volatile.Read(ref _requests[i]);
            if (count != 0)
            {
                result[(FuseOpcode)i] = count;
            }
        }

        return result;
    }

    /// <summary>Requests per opcode since <paramref name="before"/> (a <see cref="Snapshot"/>); zero deltas left out.</summary>
    public IReadOnlyDictionary<FuseOpcode, long> Since(IReadOnlyDictionary<FuseOpcode, long> before)
    {
        var result = new Dictionary<FuseOpcode, long>();
        foreach (var (opcode, count) in Snapshot())
        {
            var delta = count - before.GetValueOrDefault(opcode);
            if (delta != 0)
            {
                result[opcode] = delta;
            }
        }

        return result;
    }

    internal void CountRequest(uint opcode) => Interlocked.Increment(ref _requests[opcode < Slots ? opcode : 0]);

    internal void CountReadBytes(int bytes) => Interlocked.Add(ref _readBytes, bytes);

    internal void CountReadError() => Interlocked.Increment(ref _readErrors);

    internal void CountInterruptedRead() => Interlocked.Increment(ref _interruptedReads);

    internal void CountPassthroughOpen() => Interlocked.Increment(ref _passthroughOpens);

    private static int Slot(FuseOpcode opcode) => (uint)opcode < Slots ? (int)opcode : 0;
}
