using System.Diagnostics;
using Snapshotter.Cache.Fetching;

namespace Snapshotter.Lazy.Backends;

/// <summary>
/// The chunks of one blob whose fetch just failed (and whether its chunk-table read just failed), remembered for
/// <see cref="Duration"/>: a READ that needs such a chunk is answered EIO at once instead of fetching again. Why: the
/// kernel retries a failed read one request after the other (its readahead, then the single page; in EROFS and again
/// in the FUSE file's page cache beneath it): during a registry outage one pread(2) of the mounted file arrived as 4
/// READs (2 with EROFS -o directio), and fetching for each kept the reader waiting that many fetch timeouts. A chunk that has become present is never
/// held, and after <see cref="Duration"/> the next READ fetches again. Lock-free: timestamps are written and read with
/// <see cref="Volatile"/>; concurrent failures may overwrite each other's timestamp, which only moves a hold's end.
/// </summary>
internal sealed class ChunkFailureHold(TimeSpan duration)
{
    /// <summary>How long failures are held by default: the kernel's retries of one read arrive within milliseconds.</summary>
    public static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(1);

    // Stopwatch timestamps, 0 = never: the last failure of any chunk (a cheap first test on the READ path), the last
    // chunk-table failure, and per chunk the last failure of a READ that needed it.
    private long _lastFailure;
    private long _tableFailure;
    private long[]? _failedAt;

    public TimeSpan Duration => duration;

    /// <summary>Whether the chunk-table read failed within <see cref="Duration"/>.</summary>
    public bool TableHeld => Held(Volatile.Read(ref _tableFailure));

    public void RememberTableFailure() => Volatile.Write(ref _tableFailure, Stopwatch.GetTimestamp());

    /// <summary>Remembers the chunks of a failed READ of <c>[offset, offset + length)</c> that are still missing (the ones whose fetch failed).</summary>
    public void Remember(BlobChunkFetcher fetcher, long offset, int length)
    {
        if (!fetcher.Table.TryFindRange(offset, length, out var first, out var last))
        {
            return;
        }

        var failedAt = Volatile.Read(ref _failedAt)
            ?? Interlocked.CompareExchange(ref _failedAt, new long[fetcher.Table.Count], null)
            ?? Volatile.Read(ref _failedAt)!;
        var now = Stopwatch.GetTimestamp();
        for (var i = first; i <= last; i++)
        {
            if (!fetcher.IsPresent(i))
            {
                Volatile.Write(ref failedAt[i], now);
            }
        }

        Volatile.Write(ref _lastFailure, now);
    }

    /// <summary>Whether a chunk of <c>[offset, offset + length)</c> is missing and failed within <see cref="Duration"/>. Allocates nothing.</summary>
    public bool IsHeld(BlobChunkFetcher fetcher, long offset, int length)
    {
        if (!Held(Volatile.Read(ref _lastFailure))
            || Volatile.Read(ref _failedAt) is not { } failedAt
            || !fetcher.Table.TryFindRange(offset, length, out var first, out var last))
        {
            return false;
        }

        for (var i = first; i <= last; i++)
        {
            if (!fetcher.IsPresent(i) && Held(Volatile.Read(ref failedAt[i])))
            {
                return true;
            }
        }

        return false;
    }

    private bool Held(long failedAt) => failedAt != 0 && Stopwatch.GetElapsedTime(failedAt) < duration;
}
