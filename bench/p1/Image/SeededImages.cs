namespace Snapshotter.P1.Benchmarks.Image;

/// <summary>What the registry storage holds: both images' repositories and tag, and the lazy image's blob sizes.</summary>
internal sealed record SeededImages(string OrdinaryRepository, string LazyRepository, string Tag, IReadOnlyList<long> LazyDataBlobBytes, long BootstrapLayerBytes, string Compressor, int ChunkSize);
