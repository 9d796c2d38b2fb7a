using System.Buffers;
using Microsoft.Extensions.Logging;
using Snapshotter.Cache.Chunks;
using Snapshotter.Telemetry;
using Snapshotter.Erofs.Compression;
using Snapshotter.Registry;

namespace Snapshotter.Lazy.Blobs;

/// <summary>
/// A data blob downloaded whole into a local file (the blob-fetch backend): one streamed GET (the registry client checks
/// the blob's sha256 at the end), every chunk decompressed, checked against its own sha256 and written at its
/// uncompressed offset, so the file is the device EROFS addresses. Written as <c>.partial</c> and renamed when complete,
/// so a complete file is trusted across restarts. Concurrent callers share one download.
/// </summary>
internal sealed class CompleteBlobFile(LazyBlob blob, BlobFileCache cache, RegistryClient client, SnapshotterMetrics metrics, ILogger logger)
{
    private readonly Lock _lock = new();
    private Task<string>? _download;
    private long _downloaded;

    /// <summary>Stored bytes this process downloaded for the blob (0 when the file was already complete).</summary>
    public long DownloadedBytes => Volatile.Read(ref _downloaded);

    /// <summary>The complete file's path, downloading it first if needed.</summary>
    public Task<string> EnsureAsync(CancellationToken cancellationToken = default)
    {
        Task<string> task;
        lock (_lock)
        {
            if (_download is null || _download.IsFaulted || _download.IsCanceled)
            {
                _download = DownloadAsync();
            }

            task = _download;
        }

        return task.IsCompleted ? task : task.WaitAsync(cancellationToken);
    }

    private async Task<string> DownloadAsync()
    {
        var path = cache.CompletePath(blob);
        if (cache.IsComplete(blob))
        {
            return path;
        }

        var table = await blob.GetChunkTableAsync().ConfigureAwait(false);
        var partial = cache.NewPartialPath(blob);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            using (var file = File.OpenHandle(partial, FileMode.Create, FileAccess.ReadWrite))
            {
                await WriteChunksAsync(table, file).ConfigureAwait(false);
                RandomAccess.SetLength(file, blob.DeviceSize);
                RandomAccess.FlushToDisk(file);
            }

            File.Move(partial, path, overwrite: true);
        }
        catch (RegistryException e)
        {
            File.Delete(partial);
            throw LazyErrors.FromRegistry(e, $"downloading blob {blob.Locator}");
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            File.Delete(partial);
            throw new SnapshotterException(ErrorKind.Unavailable, $"downloading blob {blob.Locator}: {e.Message}", e);
        }

        metrics.RecordFetch(blob.StoredSize, table.Count);
        Volatile.Write(ref _downloaded, blob.StoredSize);
        Log.BlobDownloaded(logger, blob.Digest, blob.StoredSize, blob.DeviceSize, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return path;
    }

    private async Task WriteChunksAsync(ChunkTable table, Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
        var order = Enumerable.Range(0, table.Count).OrderBy(i => table[i].CompressedOffset).ToArray();
        var maxStored = order.Length == 0 ? 1 : order.Max(i => table[i].CompressedSize);
        var maxPlain = order.Length == 0 ? 1 : order.Max(i => table[i].UncompressedSize);
        var stored = ArrayPool<byte>.Shared.Rent(Math.Max(maxStored, 64 * 1024));
        var plain = ArrayPool<byte>.Shared.Rent(maxPlain);
        try
        {
            var stream = await client.OpenBlobAsync(blob.Locator, blob.StoredSize).ConfigureAwait(false);
            await using var streamScope = stream.ConfigureAwait(false);
            long position = 0;
            long previousOffset = -1;
            foreach (var index in order)
            {
                var chunk = table[index];
                if (chunk.CompressedOffset != previousOffset)
                {
                    if (chunk.CompressedOffset < position)
                    {
                        throw new InvalidDataException($"chunk {index} overlaps the previous chunk's stored bytes");
                    }

                    await SkipAsync(stream, chunk.CompressedOffset - position, stored).ConfigureAwait(false);
                    await stream.ReadExactlyAsync(stored.AsMemory(0, chunk.CompressedSize)).ConfigureAwait(false);
                    position = chunk.CompressedOffset + chunk.CompressedSize;
                    previousOffset = chunk.CompressedOffset;
                    Decode(table, index, stored.AsSpan(0, chunk.CompressedSize), plain.AsSpan(0, chunk.UncompressedSize));
                }

                RandomAccess.Write(file, plain.AsSpan(0, chunk.UncompressedSize), chunk.UncompressedOffset);
            }

            // Read to the end: the registry client verifies the whole blob's digest only there.
            while (await stream.ReadAsync(stored).ConfigureAwait(false) > 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(stored);
            ArrayPool<byte>.Shared.Return(plain);
        }
    }

    private void Decode(ChunkTable table, int index, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ref readonly var chunk = ref table[index];
        if (!chunk.IsCompressed)
        {
            source.CopyTo(destination);
        }
        else if (!ChunkCodec.TryDecompress(blob.Info.Compressor, source, destination))
        {
            throw new InvalidDataException($"chunk {index} does not decode to {chunk.UncompressedSize} bytes");
        }

        if (!table.VerifyDigest(index, destination))
        {
            metrics.RecordDigestFailure();
            throw new InvalidDataException($"chunk {index}: {table.DigestMismatchMessage}");
        }
    }

    private static async Task SkipAsync(Stream stream, long count, byte[] scratch)
    {
        while (count > 0)
        {
            var n = await stream.ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, count))).ConfigureAwait(false);
            if (n == 0)
            {
                throw new EndOfStreamException("the blob ended before its last chunk");
            }

            count -= n;
        }
    }
}
