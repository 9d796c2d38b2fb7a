using Snapshotter.Registry;

namespace Snapshotter.Lazy;

/// <summary>
/// Turns registry failures into the project's one error taxonomy, so that a lazy pull that fails reaches containerd
/// with a proper gRPC code and a message naming the image and the cause (never UNKNOWN for a registry problem).
/// </summary>
internal static class LazyErrors
{
    public static ErrorKind KindOf(RegistryErrorKind kind) => kind switch
    {
        RegistryErrorKind.InvalidReference => ErrorKind.InvalidArgument,
        RegistryErrorKind.NotFound => ErrorKind.NotFound,
        RegistryErrorKind.Unauthorized or RegistryErrorKind.Denied => ErrorKind.FailedPrecondition,
        RegistryErrorKind.Timeout => ErrorKind.DeadlineExceeded,

        // Unreachable, rate-limited or answering nonsense: the registry side is the problem and a retry may work.
        _ => ErrorKind.Unavailable,
    };

    /// <summary>A <see cref="SnapshotterException"/> for <paramref name="e"/>, prefixed with <paramref name="context"/>.</summary>
    public static SnapshotterException FromRegistry(RegistryException e, string context)
    {
        var hint = e.Kind is RegistryErrorKind.Unauthorized or RegistryErrorKind.Denied
            ? " (the snapshotter reads the registry with its own credentials: docker config.json / credential helpers and hosts.toml)"
            : string.Empty;
        return new SnapshotterException(KindOf(e.Kind), $"{context}: {e.Message}{hint}", e);
    }
}
