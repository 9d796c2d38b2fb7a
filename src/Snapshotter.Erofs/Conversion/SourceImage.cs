namespace Snapshotter.Erofs.Conversion;

/// <summary>A resolved single-platform image: its config and layers, bottom first.</summary>
public sealed record SourceImage(OciDescriptor Config, IReadOnlyList<OciDescriptor> Layers);
