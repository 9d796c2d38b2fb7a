namespace Snapshotter.Erofs.Conversion;

/// <summary>The lazily pullable image a conversion produced.</summary>
internal sealed record ConversionResult(Descriptor Manifest, IReadOnlyList<Descriptor> DataBlobs, Descriptor BootstrapLayer, long SourceBytes);
