namespace Snapshotter.Erofs.Reading;

/// <summary>One directory entry (including <c>.</c> and <c>..</c>).</summary>
internal readonly record struct ErofsDirEntry(string Name, ulong Nid, byte FileType);
