namespace Snapshotter.Erofs.Reading;

/// <summary>One device-table slot: an extra device (a data blob) the image's chunks point into.</summary>
/// <param name="DeviceId">1-based device id as chunk indexes use it (0 is the bootstrap).</param>
/// <param name="Tag">The slot tag; for RAFS v6 the blob id (sha256 hex of the data blob).</param>
/// <param name="Blocks">Size of the device's uncompressed address space in 4 KiB blocks.</param>
/// <param name="MappedBlockAddress">Where the device is mapped in the flat address space (0 = not mapped).</param>
public sealed record ErofsDevice(int DeviceId, string Tag, uint Blocks, uint MappedBlockAddress);
