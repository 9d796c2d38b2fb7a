namespace Snapshotter.Lazy.Blobs;

/// <summary>
/// The local blob files under <c>&lt;cache&gt;/blobs</c>: <c>&lt;hex&gt;</c> is a complete, verified uncompressed blob
/// (written by a full download, renamed into place only when done); <c>&lt;hex&gt;.&lt;id&gt;.partial</c> a download in progress;
/// <c>&lt;hex&gt;.sparse</c> a blob filled lazily by reads.
/// </summary>
internal sealed class BlobFileCache
{
    public const string PartialSuffix = ".partial";
    public const string SparseSuffix = ".sparse";

    public BlobFileCache(string cacheDirectory)
    {
        Directory = System.IO.Directory.CreateDirectory(Path.Combine(cacheDirectory, "blobs")).FullName;
    }

    /// <summary>The directory holding the blob files.</summary>
    public string Directory { get; }

    /// <summary>Path of the complete blob file.</summary>
    public string CompletePath(LazyBlob blob) => Path.Combine(Directory, blob.Hex);

    /// <summary>
    /// A new path for a download in progress, unique per download: a download whose mount was cancelled goes on in the
    /// background, and a retry's download of the same blob must not truncate or rename that file under it.
    /// </summary>
    public string NewPartialPath(LazyBlob blob) => Path.Combine(Directory, $"{blob.Hex}.{Guid.NewGuid():N}{PartialSuffix}");

    /// <summary>Path of a lazily filled blob file.</summary>
    public string SparsePath(LazyBlob blob) => Path.Combine(Directory, blob.Hex + SparseSuffix);

    /// <summary>A directory for short device links of the mount at <paramref name="mountPoint"/> (many-layer images).</summary>
    public string LinkDirectory(string mountPoint) =>
        Path.Combine(Path.GetDirectoryName(Directory)!, "links", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(mountPoint)))[..16]);

    /// <summary>True when the complete file of <paramref name="blob"/> is there with the device's size.</summary>
    public bool IsComplete(LazyBlob blob)
    {
        var info = new FileInfo(CompletePath(blob));
        return info.Exists && info.Length == blob.DeviceSize;
    }

    /// <summary>
    /// Deletes the files of blobs no snapshot references (<paramref name="liveDigests"/>) and no mounted image uses;
    /// returns how many. Partial and sparse files of blobs in use are kept.
    /// </summary>
    public int Prune(IReadOnlySet<string> liveDigests, Func<string, bool> inUse)
    {
        var deleted = 0;
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory))
        {
            var name = Path.GetFileName(path);
            var hex = name.Split('.')[0];
            var digest = "sha256:" + hex;
            if (liveDigests.Contains(digest) || inUse(digest))
            {
                continue;
            }

            File.Delete(path);
            deleted++;
        }

        return deleted;
    }

    /// <summary>Deletes leftovers an earlier run cannot resume: partial downloads and lazily filled files (their presence map was in memory).</summary>
    public void DeleteIncomplete()
    {
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory))
        {
            if (path.EndsWith(PartialSuffix, StringComparison.Ordinal) || path.EndsWith(SparseSuffix, StringComparison.Ordinal))
            {
                File.Delete(path);
            }
        }
    }
}
