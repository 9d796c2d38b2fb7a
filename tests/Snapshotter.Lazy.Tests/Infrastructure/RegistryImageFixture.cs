using System.Text.RegularExpressions;
using Snapshotter.Registry.Tests.Infrastructure;

namespace Snapshotter.Lazy.Tests.Infrastructure;

/// <summary>
/// One real docker-registry (access log on) for the whole test run, holding the test image converted by our converter
/// (<c>lazy/app:v1</c>) and the same image unconverted (<c>lazy/plain:v1</c>).
/// </summary>
public sealed class RegistryImageFixture : IAsyncLifetime
{
    private readonly TempDirectory _work = new("lazy-tests-images");

    internal RegistryProcess Registry { get; private set; } = null!;

    internal ConvertedImage Converted { get; private set; } = null!;

    internal LazyTestImage Image => Converted.Image;

    public string Reference => Converted.Reference;

    public string PlainReference => $"{Registry.Host}/lazy/plain:v1";

    public async Task InitializeAsync()
    {
        HostRequirements.Root();
        HostRequirements.DockerRegistry();
        Registry = await RegistryProcess.StartAsync(new RegistryProcessOptions { AccessLog = true });
        Converted = await ConvertedImage.ConvertAsync(Registry.Host, "lazy/app", new LazyTestImage(), _work.Path);
        await Converted.PushSourceAsync(PlainReference);
    }

    /// <summary>
    /// Blob GETs the registry logged for <paramref name="digest"/> with <paramref name="status"/> (200: the whole blob,
    /// 206: a range), counted from its access log.
    /// </summary>
    public int BlobGets(string digest, int status) =>
        Regex.Matches(Registry.Log, $"\"GET /v2/[^ ]+/blobs/{Regex.Escape(digest)} HTTP/[0-9.]+\" {status} ").Count;

    /// <summary>
    /// <see cref="BlobGets"/> once the access log has settled: the registry writes a line after the response, so the count
    /// is read when it has not changed for a moment.
    /// </summary>
    public async Task<int> SettledBlobGetsAsync(string digest, int status)
    {
        var count = BlobGets(digest, status);
        for (var i = 0; i < 50; i++)
        {
            await Task.Delay(100);
            var now = BlobGets(digest, status);
            if (now == count && i >= 4)
            {
                return now;
            }

            count = now;
        }

        return count;
    }

    public async Task DisposeAsync()
    {
        if (Registry is not null)
        {
            await Registry.DisposeAsync();
        }

        _work.Dispose();
    }
}
