using Snapshotter.Oci;

namespace Snapshotter.Registry;

/// <summary>A manifest or index exactly as the registry served it, after its digest was verified.</summary>
/// <param name="Descriptor">Media type (from the body, else <c>Content-Type</c>), verified digest and size.</param>
/// <param name="Content">The raw bytes; their digest is <see cref="Descriptor.Digest"/>.</param>
public sealed record FetchedManifest(Descriptor Descriptor, ReadOnlyMemory<byte> Content);
