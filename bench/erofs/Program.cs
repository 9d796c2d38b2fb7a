using System.Diagnostics;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Benchmarks;
using Snapshotter.Erofs.Building;

// Converts one layer tar read from stdin into a data blob (and a bootstrap) and prints one result line:
// compressor seconds input-bytes blob-bytes chunks peak-rss-bytes. Used by run.sh.
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: Snapshotter.Erofs.Benchmarks <zstd|lz4|gzip|none> <chunk-size> <blob-output>");
    return 2;
}

ChunkCompressor compressor = args[0] switch
{
    "zstd" => ChunkCompressor.Zstd,
    "lz4" => ChunkCompressor.Lz4Block,
    "gzip" => ChunkCompressor.Gzip,
    "none" => ChunkCompressor.None,
    _ => throw new ArgumentException(args[0]),
};
var builder = new ImageBuilder(new ImageBuildOptions { Compressor = compressor, ChunkSize = int.Parse(args[1]) });
var watch = Stopwatch.StartNew();
long input;
await using (Stream stdin = Console.OpenStandardInput())
await using (var counting = new BufferedStream(stdin, 1 << 20))
await using (var blob = new FileStream(args[2], FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
{
    var counter = new CountingStream(counting);
    DataBlobResult result = await builder.AddLayerAsync(counter, blob);
    input = counter.Count;
    byte[] bootstrap = builder.BuildBootstrap();
    watch.Stop();
    Console.WriteLine($"{args[0]} {watch.Elapsed.TotalSeconds:F3} {input} {result.Size} {result.ChunkCount} {PeakRss()} {bootstrap.Length}");
}

return 0;

static long PeakRss()
{
    foreach (string line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
        {
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
    }

    return -1;
}
