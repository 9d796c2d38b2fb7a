using Snapshotter.Cache.Buffers;

namespace Snapshotter.Cache.Fetching;

// Write-out: decompress, verify and write chunks (and zeros over gaps) to the cache file.
public sealed partial class BlobChunkFetcher
{
    private bool WriteChunk(int index, ReadOnlySpan<byte> stored, IChunkSink sink)
    {
        ref readonly var chunk = ref _table[index];
        var buffer = _pool.Rent(chunk.UncompressedSize);
        try
        {
            var data = buffer.Span[..chunk.UncompressedSize];
            int n;
            if (chunk.IsCompressed)
            {
                n = _decompressor.Decompress(stored, data);
            }
            else
            {
                stored.CopyTo(data);
                n = stored.Length;
            }

            if (n != chunk.UncompressedSize)
            {
                Log.ChunkCorrupt(_logger, index, $"decompressed to {n} bytes, expected {chunk.UncompressedSize}");
                return false;
            }

            if (_options.VerifyDigests && !_table.VerifyDigest(index, data))
            {
                _metrics.RecordDigestFailure();
                Log.ChunkCorrupt(_logger, index, _table.DigestMismatchMessage);
                return false;
            }

            var written = sink.Write(buffer, n, chunk.UncompressedOffset);
            if (!written.IsSuccess)
            {
                Log.WriteFailed(_logger, index, written.Errno);
                return false;
            }

            return true;
        }
        catch (InvalidDataException e)
        {
            Log.ChunkCorrupt(_logger, index, e.Message);
            return false;
        }
        finally
        {
            _pool.Return(buffer);
        }
    }

    /// <summary>Writes zeros over the pages of <c>[offset, end)</c> that no chunk covers, so that the READ leaves no hole.</summary>
    private FillResult WriteGaps(long offset, long end, IChunkSink sink)
    {
        var cursor = AlignedBuffer.AlignDown(offset);
        end = AlignedBuffer.AlignUp(end);
        AlignedBuffer? zeros = null;
        try
        {
            while (cursor < end)
            {
                long gapEnd;
                if (_table.TryFindRange(cursor, end - cursor, out var first, out _))
                {
                    ref readonly var chunk = ref _table[first];
                    if (chunk.UncompressedOffset <= cursor)
                    {
                        cursor = AlignedBuffer.AlignUp(chunk.UncompressedEnd);
                        continue;
                    }

                    gapEnd = chunk.UncompressedOffset;
                }
                else
                {
                    gapEnd = end;
                }

                zeros ??= _pool.Rent(AlignedBufferPool.MinClassSize);
                zeros.Span.Clear();
                while (cursor < gapEnd)
                {
                    var step = (int)Math.Min(zeros.Capacity, gapEnd - cursor);
                    var written = sink.Write(zeros, step, cursor);
                    if (!written.IsSuccess)
                    {
                        return written;
                    }

                    cursor += step;
                }
            }

            return FillResult.Success;
        }
        finally
        {
            if (zeros is not null)
            {
                _pool.Return(zeros);
            }
        }
    }
}
