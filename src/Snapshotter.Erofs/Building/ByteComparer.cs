namespace Snapshotter.Erofs.Building;

/// <summary>Orders names by their bytes, the way the kernel's EROFS binary-searches dirents.</summary>
internal sealed class ByteComparer : IComparer<byte[]>
{
    public static readonly ByteComparer Instance = new();

    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y.AsSpan());
}
