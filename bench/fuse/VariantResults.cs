namespace Snapshotter.Fuse.Benchmarks;

/// <summary>Measurements of one variant across rounds.</summary>
internal sealed class VariantResults
{
    public List<double> ColdSequential { get; } = [];

    public List<double> WarmSequential { get; } = [];

    public List<double> RandomLatencies { get; } = [];
}
