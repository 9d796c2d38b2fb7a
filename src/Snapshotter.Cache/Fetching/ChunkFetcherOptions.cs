namespace Snapshotter.Cache.Fetching;

/// <summary>How a <see cref="BlobChunkFetcher"/> turns READs into registry requests.</summary>
public sealed class ChunkFetcherOptions
{
    /// <summary>
    /// Small reads are amplified to fetch following missing chunks up to this many stored (compressed) bytes per
    /// request, as Nydus's <c>amplify_io</c>. 0 disables amplification. Defaults to 1 MiB.
    /// </summary>
    public int AmplifyWindow { get; init; } = 1024 * 1024;

    /// <summary>
    /// Largest single Range GET, in stored bytes; longer runs of chunks are split into requests fetched (and
    /// decompressed) in parallel. Defaults to 8 MiB: every Range GET costs the registry a lookup and a seek, and
    /// halving their number halved docker-registry's CPU in bench/RESULTS.md.
    /// </summary>
    public int MaxRequestSize { get; init; } = 8 * 1024 * 1024;

    /// <summary>
    /// Largest background request of a sequential stream, in stored bytes: once a stream's window has grown to more than
    /// <see cref="MaxReadaheads"/> requests of <see cref="MaxRequestSize"/>, its requests grow with it (a quarter of the
    /// window with the default 4 readaheads) up to this. Demand READs, their amplification and prefetch keep
    /// <see cref="MaxRequestSize"/>; a value at or below it turns the growth off. Defaults to 16 MiB: a long sequential
    /// read in fewer Range GETs costs docker-registry less CPU (bench/RESULTS.md, "Adaptive stream requests").
    /// </summary>
    public int MaxStreamRequestSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>Adjacent missing chunks whose stored bytes are at most this far apart share one Range GET. Defaults to 0 (touching only).</summary>
    public int MergeGap { get; init; }

    /// <summary>Verify each chunk's sha256 when the chunk table has digests. Defaults to true.</summary>
    public bool VerifyDigests { get; init; } = true;

    /// <summary>
    /// When a READ continues where the previous data ends (a sequential reader), keep fetching in the background up to
    /// this many stored bytes past that READ, refilling as requests complete, so the next READs find their chunks
    /// present or in flight. The window starts at 2 MiB and doubles while the reader keeps up, so only a proven
    /// sequential reader gets this far. 0 disables. Defaults to 64 MiB (four requests of
    /// <see cref="MaxStreamRequestSize"/>, two of them in flight at a time).
    /// </summary>
    public int ReadaheadWindow { get; init; } = 64 * 1024 * 1024;

    /// <summary>
    /// Background readahead requests (each up to <see cref="MaxStreamRequestSize"/>) in flight at once per blob; they are
    /// fetched, decompressed and verified in parallel. Their stored bytes stay within this many requests of
    /// <see cref="MaxRequestSize"/> (32 MiB by default), so grown requests mean fewer of them in flight, not more memory.
    /// Defaults to 4.
    /// </summary>
    public int MaxReadaheads { get; init; } = 4;
}
