namespace Snapshotter.Cache.Fetching;

/// <summary>Why a range could not be made present (the kinds of <see cref="FillResult"/>, after YARP's <c>ForwarderError</c>).</summary>
public enum FillError : byte
{
    /// <summary>The range is present.</summary>
    None,

    /// <summary>A chunk could not be fetched, decompressed or verified (the fetcher logged which and why).</summary>
    ChunkUnavailable,

    /// <summary>Writing into the cache file failed (disk full, I/O error); <see cref="FillResult.Errno"/> says how.</summary>
    WriteFailed,

    /// <summary>Reading a local source file failed; <see cref="FillResult.Errno"/> says how.</summary>
    SourceReadFailed,

    /// <summary>The blob's chunk table could not be had, so no chunk can be located.</summary>
    ChunkTableUnavailable,

    /// <summary>The source threw; the kernel adapter that caught it has logged it.</summary>
    Faulted,
}
