using Snapshotter.Core.Remote;
using Snapshotter.Lazy.Blobs;

namespace Snapshotter.Lazy.Images;

/// <summary>An image opened for mounting: its bootstrap and its data blobs in device-table order (references held).</summary>
/// <param name="Source">What the snapshotter (or the CLI) asked to mount.</param>
/// <param name="Id">A short id of the bootstrap's content (part of the fscache fsid).</param>
/// <param name="Blobs">Device 1..N of the bootstrap, each one reference on a <see cref="LazyBlob"/>.</param>
internal sealed record LazyImage(RemoteImage Source, string Id, IReadOnlyList<LazyBlob> Blobs)
{
    public string BootstrapPath => Source.BootstrapPath;
}
