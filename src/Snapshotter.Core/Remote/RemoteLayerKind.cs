namespace Snapshotter.Core.Remote;

/// <summary>What the metadata store remembers about a snapshot of a lazily pulled image.</summary>
internal enum RemoteLayerKind
{
    /// <summary>A data blob committed remotely: its directory is empty, its bytes live in the registry.</summary>
    DataBlob = 1,

    /// <summary>The bootstrap layer (fetched by its Prepare, or unpacked by containerd): its directory holds <c>image/image.boot</c>.</summary>
    Bootstrap = 2,
}
