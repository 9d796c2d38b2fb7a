namespace Snapshotter.Core.Remote;

/// <summary>One data blob of a lazily pulled image, as remembered when its layer was committed remotely.</summary>
/// <param name="ImageRef">The image reference the layer was pulled with (names the registry and repository).</param>
/// <param name="Digest">The blob's digest (<c>sha256:...</c>), which is also the layer digest.</param>
/// <param name="Size">The blob's size in bytes as the registry reported it.</param>
public sealed record RemoteLayer(string ImageRef, string Digest, long Size);
