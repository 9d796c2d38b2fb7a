namespace Snapshotter.Erofs.Conversion;

/// <summary>The lazily pullable image a conversion produced.</summary>
public sealed record ConversionResult(OciDescriptor Manifest, IReadOnlyList<OciDescriptor> DataBlobs, OciDescriptor BootstrapLayer, long SourceBytes);
