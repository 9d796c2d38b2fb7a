namespace Snapshotter.Cachefiles.Daemon;

/// <summary>What the daemon must know about one mounted image before the kernel asks for it.</summary>
/// <param name="Fsid">The EROFS <c>fsid</c> mount option; the bootstrap's cookie key. Unique within the domain.</param>
/// <param name="DomainId">The shared domain (<c>domain_id</c>), or null for a private volume named after the fsid.</param>
/// <param name="Bootstrap">Serves the bootstrap (usually a local file).</param>
/// <param name="Blobs">Data blobs by device-table tag (the blob's sha256 hex).</param>
public sealed record ImageRegistration(
    string Fsid,
    string? DomainId,
    ICacheObjectSource Bootstrap,
    IReadOnlyDictionary<string, ICacheObjectSource> Blobs)
{
    /// <summary>The fscache volume key EROFS uses: <c>erofs,&lt;domain_id or fsid&gt;</c>.</summary>
    public string VolumeKey => $"erofs,{DomainId ?? Fsid}";
}
