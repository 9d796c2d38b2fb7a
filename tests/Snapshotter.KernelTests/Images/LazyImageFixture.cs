using Snapshotter.Erofs;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Registry;
using Snapshotter.Lazy.Conversion;

namespace Snapshotter.KernelTests.Images;

/// <summary>
/// Once per test class: a guest docker-registry holding a test image converted (zstd, 1 MiB chunks) by our converter
/// straight into it.
/// </summary>
public sealed class LazyImageFixture : IAsyncLifetime
{
    public const int ChunkSize = 1024 * 1024;

    internal GuestRegistry Registry { get; private set; } = null!;

    internal TestImageBuilder Image { get; } = new();

    internal ConversionResult Conversion { get; private set; } = null!;

    public string Reference => $"{Registry.Host}/kernel/lazy:v1";

    public async Task InitializeAsync()
    {
        KernelEnvironment.RequireOnDemandKernel();
        Registry = new GuestRegistry();
        var layout = Directory.CreateTempSubdirectory("srcimage").FullName;
        Image.Write(layout, "v1");
        using var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = null });
        Conversion = await ImageConverter.ConvertAsync(
            new OciLayout(layout, "v1"),
            new RegistryImageSink(client, Snapshotter.Registry.ImageReference.Parse(Reference)),
            new ImageBuildOptions { Compressor = ChunkCompressor.Zstd, ChunkSize = ChunkSize },
            workDirectory: KernelEnvironment.Scratch);
        Directory.Delete(layout, recursive: true);
    }

    public Task DisposeAsync()
    {
        Registry?.Dispose();
        return Task.CompletedTask;
    }
}
