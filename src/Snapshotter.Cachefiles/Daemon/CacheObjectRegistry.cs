namespace Snapshotter.Cachefiles.Daemon;

/// <summary>
/// Registered images, looked up by the (volume, cookie) pair of an OPEN. A blob registered by several images of one
/// domain is one cache object: the first registration's source serves it, and it stays until the last image that
/// names it is unregistered.
/// </summary>
public sealed class CacheObjectRegistry : ICacheObjectResolver
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Volume, string Cookie), Entry> _entries = new();
    private readonly Dictionary<(string Volume, string Fsid), ImageRegistration> _images = new();

    /// <summary>Registers an image; throws <see cref="InvalidOperationException"/> when its fsid is taken in the domain.</summary>
    public void Register(ImageRegistration image)
    {
        ArgumentException.ThrowIfNullOrEmpty(image.Fsid);
        lock (_lock)
        {
            var volume = image.VolumeKey;
            if (_images.ContainsKey((volume, image.Fsid)) || _entries.ContainsKey((volume, image.Fsid)))
            {
                throw new InvalidOperationException($"fsid {image.Fsid} is already registered in volume {volume}");
            }

            _images[(volume, image.Fsid)] = image;
            _entries[(volume, image.Fsid)] = new Entry(image.Bootstrap);
            foreach (var (tag, source) in image.Blobs)
            {
                if (_entries.TryGetValue((volume, tag), out var existing))
                {
                    existing.References++;
                }
                else
                {
                    _entries[(volume, tag)] = new Entry(source);
                }
            }
        }
    }

    /// <summary>Forgets an image; returns false when it was not registered.</summary>
    public bool Unregister(string fsid, string? domainId)
    {
        lock (_lock)
        {
            var volume = $"erofs,{domainId ?? fsid}";
            if (!_images.Remove((volume, fsid), out var image))
            {
                return false;
            }

            _entries.Remove((volume, fsid));
            foreach (var tag in image.Blobs.Keys)
            {
                if (_entries.TryGetValue((volume, tag), out var entry) && --entry.References == 0)
                {
                    _entries.Remove((volume, tag));
                }
            }

            return true;
        }
    }

    /// <summary>Number of registered images.</summary>
    public int ImageCount
    {
        get
        {
            lock (_lock)
            {
                return _images.Count;
            }
        }
    }

    public ValueTask<ICacheObjectSource?> ResolveAsync(string volumeKey, string cookieKey, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(_entries.TryGetValue((volumeKey, cookieKey), out var entry) ? entry.Source : null);
        }
    }

    private sealed class Entry(ICacheObjectSource source)
    {
        public ICacheObjectSource Source { get; } = source;

        public int References { get; set; } = 1;
    }
}
