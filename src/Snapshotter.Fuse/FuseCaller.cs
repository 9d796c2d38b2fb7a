namespace Snapshotter.Fuse;

/// <summary>
/// Who a request came from, as the kernel reports it in <c>fuse_in_header</c>: the thread id (in the server's pid
/// namespace; 0 when the kernel has none to give, e.g. a request the kernel makes on its own). The kernel's retries of
/// one failed read come from the thread that reads.
/// </summary>
/// <param name="Pid">The requesting thread's id, 0 when unknown.</param>
public readonly record struct FuseCaller(uint Pid)
{
    /// <summary>No caller known.</summary>
    public static FuseCaller Unknown => default;
}
