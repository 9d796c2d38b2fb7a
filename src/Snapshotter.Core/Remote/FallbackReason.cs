namespace Snapshotter.Core.Remote;

/// <summary>Why a layer or image that looked lazy was handled the ordinary way (a bounded metric label set).</summary>
public enum FallbackReason
{
    /// <summary>Lazy pulling is off (<c>lazy_mode = off</c>).</summary>
    Disabled,

    /// <summary>The labels name no image reference or layer digest (e.g. plain <c>ctr images pull</c>).</summary>
    MissingLabels,

    /// <summary>The layer could not be resolved (registry unreachable, blob unknown, credentials refused).</summary>
    Unresolvable,

    /// <summary>A snapshot with the target name exists on another parent.</summary>
    NameConflict,

    /// <summary>The lazy mount of an image failed in the preferred mode and a fallback mode served it.</summary>
    MountFallback,

    /// <summary>The cachefiles on-demand mode was wanted but the kernel refused it at start.</summary>
    OnDemandRefused,
}
