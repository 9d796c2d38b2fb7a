namespace Snapshotter.Erofs.Format;

/// <summary>
/// The xattr name indexes of erofs_fs.h (<c>EROFS_XATTR_INDEX_*</c>): an entry stores its name's prefix as this index
/// and only the rest of the name as bytes. The one table both the reader and the writer use.
/// </summary>
internal static class XattrNameIndex
{
    // Index 0 has no prefix. The two POSIX ACL entries are whole names (their suffix is empty); the others are namespaces.
    private static readonly string[] Prefixes =
        ["", "user.", "system.posix_acl_access", "system.posix_acl_default", "trusted.", "lustre.", "security."];

    // The kernel has no handler for lustre. (index 5): such an xattr would be stored but never seen, so it is refused.
    private const int Lustre = 5;

    /// <summary>The prefix index <paramref name="index"/> stands for; false for an index erofs_fs.h does not define.</summary>
    public static bool TryGetPrefix(int index, out string prefix)
    {
        prefix = (uint)index < (uint)Prefixes.Length ? Prefixes[index] : string.Empty;
        return (uint)index < (uint)Prefixes.Length;
    }

    /// <summary>Splits <paramref name="name"/> into the index of its prefix and the rest; false when EROFS cannot store it.</summary>
    public static bool TrySplit(string name, out byte index, out string suffix)
    {
        for (int i = 1; i < Prefixes.Length; i++)
        {
            string prefix = Prefixes[i];
            bool isNamespace = prefix.EndsWith('.');
            if (i != Lustre && name.StartsWith(prefix, StringComparison.Ordinal) && (name.Length > prefix.Length) == isNamespace)
            {
                index = (byte)i;
                suffix = name[prefix.Length..];
                return true;
            }
        }

        index = 0;
        suffix = string.Empty;
        return false;
    }
}
