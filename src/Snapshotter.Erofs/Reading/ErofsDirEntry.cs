namespace Snapshotter.Erofs.Reading;

/// <summary>One directory entry (including <c>.</c> and <c>..</c>).</summary>
public readonly record struct ErofsDirEntry(string Name, ulong Nid, byte FileType);
