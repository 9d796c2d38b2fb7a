namespace Snapshotter.Erofs.Reading;

/// <summary>The decoded EROFS superblock (only the fields this project uses).</summary>
internal sealed record ErofsSuperblock(
    uint FeatureCompat,
    uint FeatureIncompat,
    int BlockSizeBits,
    ulong RootNid,
    ulong InodeCount,
    ulong BuildTime,
    uint BuildTimeNsec,
    uint Blocks,
    uint MetaBlockAddress,
    uint XattrBlockAddress,
    ushort ExtraDevices,
    ushort DeviceTableSlotOffset)
{
    /// <summary>True when the image carries the Nydus RAFS v6 marker in <c>feature_compat</c>.</summary>
    public bool IsRafsV6 => (FeatureCompat & ErofsFormat.FeatureCompatRafsV6) != 0;
}
