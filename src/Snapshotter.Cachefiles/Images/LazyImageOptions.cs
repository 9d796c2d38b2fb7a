using Snapshotter.Cache.Fetching;

namespace Snapshotter.Cachefiles.Images;

/// <summary>How lazily pullable images are prepared and served.</summary>
public sealed class LazyImageOptions
{
    /// <summary>Where bootstraps are kept (<c>&lt;dir&gt;/bootstraps</c>). Required.</summary>
    public required string WorkDirectory { get; init; }

    /// <summary>
    /// The fscache domain all images share, so that a data blob used by several images is one cache object.
    /// Null gives each mount a private volume. Defaults to <c>lazysnap</c>.
    /// </summary>
    public string? DomainId { get; init; } = "lazysnap";

    /// <summary>Platform to resolve (os/arch[/variant]). Defaults to the registry client's default (linux/amd64).</summary>
    public string? Platform { get; init; }

    /// <summary>READ → Range GET policy (amplification window, merging).</summary>
    public ChunkFetcherOptions Fetch { get; init; } = new();

    /// <summary>Background prefetch after a data blob is opened. Defaults to off.</summary>
    public PrefetchOptions Prefetch { get; init; } = new();

    /// <summary>Largest bootstrap accepted (it is downloaded whole). Defaults to 512 MiB.</summary>
    public long MaxBootstrapSize { get; init; } = 512L * 1024 * 1024;
}
