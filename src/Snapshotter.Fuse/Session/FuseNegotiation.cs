namespace Snapshotter.Fuse.Session;

/// <summary>What INIT settled on: the protocol minor, the flags both sides set, and the READ size limit.</summary>
internal sealed record FuseNegotiation(uint KernelMinor, uint Minor, FuseInitFlags Flags, int MaxPages, uint MaxReadahead)
{
    public bool Passthrough => (Flags & FuseInitFlags.Passthrough) != 0;

    /// <summary>Largest READ the kernel sends (max_pages pages).</summary>
    public int MaxRead => MaxPages * NativeBuffer.PageSize;
}
