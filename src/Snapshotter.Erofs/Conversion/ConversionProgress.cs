namespace Snapshotter.Erofs.Conversion;

/// <summary>Progress of a conversion: which layer is being converted and how many source bytes were consumed.</summary>
internal readonly record struct ConversionProgress(int Layer, int LayerCount, long LayerBytesRead, long LayerSize);
