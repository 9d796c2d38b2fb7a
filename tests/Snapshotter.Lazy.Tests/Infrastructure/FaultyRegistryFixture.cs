using Snapshotter.Registry.Tests.Infrastructure;

namespace Snapshotter.Lazy.Tests.Infrastructure;

/// <summary>
/// A real docker-registry behind the fault proxy of the registry tests, holding a smaller converted image with a third
/// layer of thousands of tiny files (a data blob that is mostly chunk table). Tests reach it through the proxy.
/// </summary>
public sealed class FaultyRegistryFixture : IAsyncLifetime
{
    private readonly TempDirectory _work = new("lazy-tests-faulty");

    internal RegistryProcess Registry { get; private set; } = null!;

    internal FaultProxy Proxy { get; private set; } = null!;

    internal ConvertedImage Converted { get; private set; } = null!;

    internal LazyTestImage Image => Converted.Image;

    /// <summary>The image through the proxy.</summary>
    public string Reference => $"{Proxy.Host}/lazy/faulty:v1";

    public async Task InitializeAsync()
    {
        HostRequirements.Root();
        HostRequirements.DockerRegistry();
        Registry = await RegistryProcess.StartAsync();
        Proxy = await FaultProxy.StartAsync(new Uri($"http://{Registry.Host}/"));
        Converted = await ConvertedImage.ConvertAsync(
            Registry.Host, "lazy/faulty", new LazyTestImage(bigFileSize: 6 * 1024 * 1024, smallFiles: 40, tinyFiles: 4000, seed: 9001), _work.Path);
    }

    public async Task DisposeAsync()
    {
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }

        if (Registry is not null)
        {
            await Registry.DisposeAsync();
        }

        _work.Dispose();
    }
}
