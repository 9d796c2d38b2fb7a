using Snapshotter.Cachefiles.Daemon;

namespace Snapshotter.KernelTests.Daemon;

/// <summary>
/// A plain (volume, cookie) table for driving the daemon directly: the product resolves OPENs through the lazy-image
/// component's blob registry, these tests exercise the daemon and the kernel underneath it.
/// </summary>
internal sealed class TestObjectResolver : ICacheObjectResolver
{
    private readonly Dictionary<(string Volume, string Cookie), ICacheObjectSource> _sources = new();
    private readonly HashSet<string> _images = new();

    public int ImageCount => _images.Count;

    /// <summary>Registers an image: its bootstrap under its fsid, its blobs under their tags, in the fsid's (or the domain's) volume.</summary>
    public void Register(string fsid, string? domain, ICacheObjectSource bootstrap, IReadOnlyDictionary<string, ICacheObjectSource> blobs)
    {
        var volume = $"erofs,{domain ?? fsid}";
        _images.Add(fsid);
        _sources[(volume, fsid)] = bootstrap;
        foreach (var (tag, source) in blobs)
        {
            _sources.TryAdd((volume, tag), source);
        }
    }

    public ValueTask<ICacheObjectSource?> ResolveAsync(string volumeKey, string cookieKey, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_sources.TryGetValue((volumeKey, cookieKey), out var source) ? source : null);
}
