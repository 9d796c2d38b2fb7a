using Snapshotter.Core.Remote;

namespace Snapshotter.Core.Tests.Remote;

/// <summary>
/// A remote file system that records what the snapshotter asks of it and "mounts" by creating a marker file in the
/// mount point: the seam's contract is tested here; the real backends are tested against the kernel and a registry.
/// </summary>
internal sealed class RecordingRemoteFileSystem : IRemoteFileSystem
{
    public const string Marker = "lazy-mounted";

    private readonly HashSet<string> _mounted = new(StringComparer.Ordinal);

    public string Mode => "recording";

    public List<(string ImageRef, string Digest)> Resolved { get; } = [];

    public List<RemoteImage> Validated { get; } = [];

    public List<(RemoteImage Image, string MountPoint)> Mounts { get; } = [];

    public List<string> Unmounts { get; } = [];

    public List<IReadOnlySet<string>> Prunes { get; } = [];

    /// <summary>When set, ResolveLayerAsync throws this.</summary>
    public SnapshotterException? ResolveFailure { get; set; }

    public SnapshotterException? ValidateFailure { get; set; }

    public SnapshotterException? MountFailure { get; set; }

    public long BlobSize { get; set; } = 4096;

    public List<(string ImageRef, IReadOnlyList<string> Digests)> Anticipated { get; } = [];

    public List<(string ImageRef, string Digest)> BootstrapFetches { get; } = [];

    /// <summary>When set, FetchBootstrapAsync throws this.</summary>
    public SnapshotterException? FetchBootstrapFailure { get; set; }

    /// <summary>What FetchBootstrapAsync writes as the bootstrap.</summary>
    public string BootstrapContent { get; set; } = "fetched bootstrap";

    public void AnticipateLayers(string imageRef, IReadOnlyList<string> digests) => Anticipated.Add((imageRef, digests));

    public async ValueTask FetchBootstrapAsync(string imageRef, string digest, string destination, CancellationToken cancellationToken = default)
    {
        BootstrapFetches.Add((imageRef, digest));
        if (FetchBootstrapFailure is { } e)
        {
            throw e;
        }

        await File.WriteAllTextAsync(destination, BootstrapContent, cancellationToken);
    }

    public ValueTask<RemoteLayer> ResolveLayerAsync(string imageRef, string digest, CancellationToken cancellationToken = default)
    {
        Resolved.Add((imageRef, digest));
        return ResolveFailure is { } e ? throw e : ValueTask.FromResult(new RemoteLayer(imageRef, digest, BlobSize));
    }

    public ValueTask ValidateAsync(RemoteImage image, CancellationToken cancellationToken = default)
    {
        Validated.Add(image);
        return ValidateFailure is { } e ? throw e : ValueTask.CompletedTask;
    }

    public ValueTask MountAsync(RemoteImage image, string mountPoint, CancellationToken cancellationToken = default)
    {
        if (MountFailure is { } e)
        {
            throw e;
        }

        Assert.True(Directory.Exists(mountPoint), $"mount point {mountPoint} must exist before MountAsync");
        Mounts.Add((image, mountPoint));
        File.WriteAllText(Path.Combine(mountPoint, Marker), image.ImageRef);
        _mounted.Add(mountPoint);
        return ValueTask.CompletedTask;
    }

    public bool IsMounted(string mountPoint) => _mounted.Contains(mountPoint);

    public ValueTask UnmountAsync(string mountPoint, CancellationToken cancellationToken = default)
    {
        Unmounts.Add(mountPoint);
        _mounted.Remove(mountPoint);
        File.Delete(Path.Combine(mountPoint, Marker));
        return ValueTask.CompletedTask;
    }

    public ValueTask PruneAsync(IReadOnlySet<string> liveDigests, CancellationToken cancellationToken = default)
    {
        Prunes.Add(liveDigests);
        return ValueTask.CompletedTask;
    }

    /// <summary>Forgets every mount without unmounting: what a restarted process knows.</summary>
    public void Forget() => _mounted.Clear();
}
