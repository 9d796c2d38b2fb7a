namespace Snapshotter.Erofs.Conversion;

/// <summary>A resolved single-platform image: its config and layers, bottom first.</summary>
public sealed record SourceImage(Descriptor Config, IReadOnlyList<Descriptor> Layers);
