using System.Diagnostics;
using Snapshotter.Cache.Fetching;

namespace Snapshotter.Lazy.Backends;

/// <summary>
/// The chunks of one blob whose fetch just failed (and whether its chunk-table read just failed), remembered for
/// <see cref="Duration"/> with the thread whose READ failed: a READ from that thread that needs such a chunk is answered
/// EIO at once instead of fetching again. Why: the kernel retries a failed read one request after the other, from the
/// reading thread (its readahead, then the single page; in EROFS and again in the FUSE file's page cache beneath it):
/// during a registry outage one pread(2) of the mounted file arrived as 4 READs (2 with EROFS -o directio), and
/// fetching for each kept the reader waiting that many fetch timeouts. Another thread's READ is a new read and fetches
/// (the registry may be back), a chunk that has become present is never held, and after <see cref="Duration"/> every
/// READ fetches again. A caller of thread id 0 (unknown) matches any. Lock-free: timestamps and thread ids are written
/// and read with <see cref="Volatile"/>; concurrent failures of one chunk may mix one's time with the other's thread,
/// which only decides whether one retry waits for a fetch.
/// </summary>
internal sealed class ChunkFailureHold(TimeSpan duration)
{
    /// <summary>How long failures are held by default: the kernel's retries of one read arrive within milliseconds.</summary>
    public static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(1);

    // Stopwatch timestamps, 0 = never: the last failure of any chunk (a cheap first test on the READ path), the last
    // chunk-table failure and its thread, and per chunk i the last failure of a READ that needed it ([2i]) and that
    // READ's thread ([2i + 1]).
    private long _lastFailure;
    private long _tableFailure;
    private uint _tableFailedBy;
    private long[]? _chunks;

    public TimeSpan Duration => duration;

    /// <summary>Whether the chunk-table read failed within <see cref="Duration"/> for a READ of <paramref name="pid"/>.</summary>
    public bool IsTableHeld(uint pid) => Held(Volatile.Read(ref _tableFailure)) && Same(Volatile.Read(ref _tableFailedBy), pid);

    public void RememberTableFailure(uint pid)
    {
        Volatile.Write(ref _tableFailedBy, pid);
        Volatile.Write(ref _tableFailure, Stopwatch.GetTimestamp());
    }

    /// <summary>
    /// Remembers the chunks of a failed READ of <c>[offset, offset + length)</c> by thread <paramref name="pid"/> that
    /// are still missing (the ones whose fetch failed).
    /// </summary>
    public void Remember(BlobChunkFetcher fetcher, long offset, int length, uint pid)
    {
        if (!fetcher.Table.TryFindRange(offset, length, out var first, out var last))
        {
            return;
        }

        var chunks = Volatile.Read(ref _chunks)
            ?? Interlocked.CompareExchange(ref _chunks, new long[2 * fetcher.Table.Count], null)
            ?? Volatile.Read(ref _chunks)!;
        var now = Stopwatch.GetTimestamp();
        for (var i = first; i <= last; i++)
        {
            if (!fetcher.IsPresent(i))
            {
                Volatile.Write(ref chunks[(2 * i) + 1], pid);
                Volatile.Write(ref chunks[2 * i], now);
            }
        }

        Volatile.Write(ref _lastFailure, now);
    }

    /// <summary>
    /// Whether a chunk of <c>[offset, offset + length)</c> is missing and failed within <see cref="Duration"/> for a
    /// READ of thread <paramref name="pid"/>. Allocates nothing.
    /// </summary>
    public bool IsHeld(BlobChunkFetcher fetcher, long offset, int length, uint pid)
    {
        if (!Held(Volatile.Read(ref _lastFailure))
            || Volatile.Read(ref _chunks) is not { } chunks
            || !fetcher.Table.TryFindRange(offset, length, out var first, out var last))
        {
            return false;
        }

        for (var i = first; i <= last; i++)
        {
            if (!fetcher.IsPresent(i) && Held(Volatile.Read(ref chunks[2 * i])) && Same((uint)Volatile.Read(ref chunks[(2 * i) + 1]), pid))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Same(uint failedBy, uint pid) => failedBy == 0 || pid == 0 || failedBy == pid;

    private bool Held(long failedAt) => failedAt != 0 && Stopwatch.GetElapsedTime(failedAt) < duration;

}
