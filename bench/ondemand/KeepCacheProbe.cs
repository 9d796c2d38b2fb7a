using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Fuse;
using Snapshotter.Fuse.Protocol;
using Snapshotter.Lazy;
using Snapshotter.Registry;
using static BenchTools;

/// <summary>
/// FOPEN_KEEP_CACHE through EROFS mounted buffered (the fallback on kernels without EROFS -o directio): the lazy-image component in this process (fuse mode), the image read once (cold,
/// fills the cache), unmounted and mounted again (as when a new container starts on an image whose last container
/// went away), then read again without dropping any cache: with KEEP_CACHE the kernel keeps the FUSE blob file's page
/// cache across EROFS's close and re-open, without it every page is asked again (READs answered from the sparse cache
/// file). Interleaved; READ requests counted by the server.
/// </summary>
internal static class KeepCacheProbe
{
    public static async Task<string> RunAsync(RegistryClient client, string reference, string scratch, int rounds)
    {
        var image = ImageReference.Parse(reference);
        var mnt = Directory.CreateDirectory(Path.Combine(scratch, "keep-mnt")).FullName;
        var file = Path.Combine(mnt, "big.bin");
        var results = new Dictionary<bool, (List<double> Seconds, List<long> Reads)> { [true] = ([], []), [false] = ([], []) };
        long length = 0;
        for (var round = 0; round < rounds; round++)
        {
            foreach (var keep in round % 2 == 0 ? new[] { true, false } : [false, true])
            {
                var options = new LazyOptions
                {
                    Mode = LazyMode.Fuse,
                    CacheDirectory = FuseBenchmark.Fresh(scratch, "keep-cache"),
                    DomainId = "keep",
                    FallBackWhenUnavailable = false,
                    FuseServer = new FuseServerOptions { KeepCache = keep },

                    // KEEP_CACHE is about the blob files' page cache, which only the buffered mount (the fallback when EROFS lacks -o directio) reads through.
                    FuseErofsDirectIo = false,
                };
                await using var lazy = await LazyFileSystem.CreateAsync(options, client, NullLoggerFactory.Instance);
                var remote = await lazy.ResolveImageAsync(image);
                await lazy.MountAsync(remote, mnt);
                length = new FileInfo(file).Length;
                ReadAll(file);
                await lazy.UnmountAsync(mnt);
                await lazy.MountAsync(remote, mnt);
                var before = lazy.FuseStatistics!.Requests(FuseOpcode.Read);
                var seconds = ReadAll(file);
                results[keep].Seconds.Add(seconds);
                results[keep].Reads.Add(lazy.FuseStatistics.Requests(FuseOpcode.Read) - before);
                await lazy.UnmountAsync(mnt);
                Console.Error.WriteLine($"keep-cache round {round} {(keep ? "on" : "off")}: re-mount read {seconds:F3} s, {results[keep].Reads[^1]} READs");
            }
        }

        var mb = length / 1e6;
        var text = new StringBuilder();
        text.AppendLine($"| re-mount of a cached image, sequential read of the file (no cache dropped), median of {rounds} | time | MB/s | FUSE READs |");
        text.AppendLine("|---|---:|---:|---:|");
        foreach (var keep in new[] { true, false })
        {
            var (seconds, reads) = results[keep];
            var median = FuseBenchmark.Median(seconds);
            text.AppendLine($"| FOPEN_KEEP_CACHE {(keep ? "on (default)" : "off")} | {median:F3} s (all: {FuseBenchmark.Join(seconds)}) | {mb / median:F0} | {reads.Order().ElementAt(reads.Count / 2)} |");
        }

        return text.ToString();
    }
}
