namespace Snapshotter.Erofs.Building;

/// <summary>One layer tar entry with PAX / GNU extensions already applied. Xattr values are raw bytes.</summary>
internal sealed class LayerTarEntry
{
    public required string Name { get; init; }

    public required byte Type { get; init; }

    public string LinkName { get; init; } = string.Empty;

    public long Size { get; init; }

    public uint Mode { get; init; }

    public InodeOwnership Ownership { get; init; }

    public uint DeviceMajor { get; init; }

    public uint DeviceMinor { get; init; }

    public List<KeyValuePair<string, byte[]>>? Xattrs { get; init; }

    /// <summary>The entry's data (exactly <see cref="Size"/> bytes); valid until the next entry is read.</summary>
    public required Stream Data { get; init; }
}
