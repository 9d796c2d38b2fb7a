using System.Text;

namespace Snapshotter.Core.Snapshots;

/// <summary>Label rules shared by every backend (containerd <c>labels.Validate</c>).</summary>
internal static class SnapshotLabels
{
    /// <summary>containerd's limit on one label's key plus value, in bytes.</summary>
    public const int MaxSize = 4096;

    /// <summary>Throws InvalidArgument when a label's key plus value exceeds <see cref="MaxSize"/> bytes.</summary>
    public static void Validate(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (key, value) in labels)
        {
            var size = Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value);
            if (size > MaxSize)
            {
                var shown = key.Length > 64 ? key[..64] + "..." : key;
                throw SnapshotterException.InvalidArgument(
                    $"label key and value length ({size} bytes) greater than maximum size ({MaxSize} bytes), key: {shown}");
            }
        }
    }
}
