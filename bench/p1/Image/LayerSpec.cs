namespace Snapshotter.P1.Benchmarks.Image;

/// <summary>
/// One layer of the benchmark image: files written by the harness, single host files, symlinks, and host directory
/// trees copied in path order until the layer's budget of file bytes is reached.
/// </summary>
internal sealed record LayerSpec(string Name, long BudgetBytes)
{
    public List<(string ImagePath, byte[] Content, UnixFileMode Mode)> Files { get; } = [];

    /// <summary>Host files copied as regular files (symlinks on the host are followed).</summary>
    public List<(string HostPath, string ImagePath)> HostFiles { get; } = [];

    public List<(string ImagePath, string Target)> Symlinks { get; } = [];

    public List<TreeSource> Trees { get; } = [];
}
