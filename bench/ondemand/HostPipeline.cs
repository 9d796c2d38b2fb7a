using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Cache.Buffers;
using Snapshotter.Cache.Chunks;
using Snapshotter.Cache.Fetching;
using Snapshotter.Telemetry;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Compression;
using Snapshotter.Erofs.Reading;
using Snapshotter.Registry;

/// <summary>
/// The daemon's READ pipeline without the kernel, on the host's real CPU (no /dev/cachefiles here): the same
/// BlobChunkFetcher the daemon uses (Range GETs, zstd, sha256 per chunk, page-aligned O_DIRECT writes into a cache
/// file) driven by sequential 128 KiB "READs" for the holes, as EROFS readahead asks, vs curl downloading the blob,
/// interleaved in the same run.
/// </summary>
internal static class HostPipeline
{
    public static async Task<string> RunAsync(RegistryClient client, ImageReference image, string digest, int port, string scratch, int rounds)
    {
        var blobPath = Path.Combine(scratch, "host-blob");
        Curl(port, digest, blobPath);
        ChunkTable table;
        using (var blob = DataBlob.Open(blobPath, ChunkCompressor.Zstd, BenchTools.Digester))
        {
            var end = blob.Chunks.Max(c => (long)c.UncompressedOffset + c.UncompressedSize);
            table = DataBlobChunkTable.Create(blob, end, new FileInfo(blobPath).Length);
        }

        File.Delete(blobPath);
        var storedMB = table.CompressedSize / 1e6;
        var curl = new List<double>();
        var pipeline = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var sw = Stopwatch.StartNew();
            Curl(port, digest, "/dev/null");
            curl.Add(sw.Elapsed.TotalSeconds);
            pipeline.Add(await SequentialAsync(client, image.Blob(digest), table, Path.Combine(scratch, "host-cache")));
        }

        curl.Sort();
        pipeline.Sort();
        var c = curl[curl.Count / 2];
        var p = pipeline[pipeline.Count / 2];
        return $"| host (real CPU), median of {rounds} interleaved rounds: curl {storedMB / c:F0} MB/s stored ({c:F2} s); daemon pipeline " +
            $"{table.UncompressedSize / 1e6 / p:F0} MB/s of file = {storedMB / p:F0} MB/s stored ({p:F2} s) | **{c / p:F2}x** of curl |";
    }

    private static async Task<double> SequentialAsync(RegistryClient client, BlobLocator blob, ChunkTable table, string cachePath)
    {
        const int ReadSize = 128 * 1024;
        File.Delete(cachePath);
        using var file = File.OpenHandle(cachePath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, (FileOptions)0x4000 /* O_DIRECT */);
        var sink = new DirectFileSink(file);
        var fetcher = new BlobChunkFetcher(table, new Reader(client, blob), new Decompressor(), Options(), new SnapshotterMetrics(), NullLogger.Instance);
        var sw = Stopwatch.StartNew();
        for (long offset = 0; offset < table.UncompressedSize; offset += ReadSize)
        {
            // The kernel asks only for holes: skip ranges whose chunks are present.
            if (table.TryFindRange(offset, ReadSize, out var first, out var last) && Enumerable.Range(first, last - first + 1).All(fetcher.IsPresent))
            {
                continue;
            }

            if (!(await fetcher.FillAsync(offset, ReadSize, sink)).IsSuccess)
            {
                throw new InvalidOperationException($"fill failed at {offset}");
            }
        }

        var seconds = sw.Elapsed.TotalSeconds;
        File.Delete(cachePath);
        return seconds;
    }

    // BENCH_FETCH="request,readahead,parallel" (bytes, bytes, count) tries other fetcher settings.
    private static ChunkFetcherOptions Options()
    {
        var spec = Environment.GetEnvironmentVariable("BENCH_FETCH");
        if (spec is null)
        {
            return new ChunkFetcherOptions();
        }

        var parts = spec.Split(',').Select(int.Parse).ToArray();
        return new ChunkFetcherOptions { MaxRequestSize = parts[0], ReadaheadWindow = parts[1], MaxReadaheads = parts[2] };
    }

    private static void Curl(int port, string digest, string output)
    {
        using var p = Process.Start(new ProcessStartInfo("curl", ["-sf", "-o", output, $"http://127.0.0.1:{port}/v2/bench/big/blobs/{digest}"]))!;
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"curl exited {p.ExitCode}");
        }
    }

    private sealed class Reader(RegistryClient client, BlobLocator blob) : IBlobRangeReader
    {
        public async ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
            await client.ReadAsync(blob, offset, destination, cancellationToken);
    }

    private sealed class Decompressor : IChunkDecompressor
    {
        public int Decompress(ReadOnlySpan<byte> source, Span<byte> destination) =>
            ChunkCodec.TryDecompress(ChunkCompressor.Zstd, source, destination) ? destination.Length : throw new InvalidDataException("corrupt chunk");
    }

    private sealed class DirectFileSink(Microsoft.Win32.SafeHandles.SafeFileHandle file) : IChunkSink
    {
        public FillResult Write(AlignedBuffer buffer, int length, long offset)
        {
            var padded = AlignedBuffer.AlignUp(length);
            buffer.Span[length..padded].Clear();
            RandomAccess.Write(file, buffer.Span[..padded], offset);
            return FillResult.Success;
        }
    }
}
