using System.Collections.Concurrent;
using System.IO.Compression;
using Snapshotter.Cache.Buffers;
using Snapshotter.Cache.Fetching;

namespace Snapshotter.Cache.Tests.Fetching;

/// <summary>Raw-deflate chunk codec for tests (the product's codecs live with the image format).</summary>
internal sealed class DeflateDecompressor : IChunkDecompressor
{
    public int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        using var input = new MemoryStream(source.ToArray());
        using var deflate = new DeflateStream(input, CompressionMode.Decompress);
        var total = 0;
        int n;
        while (total < destination.Length && (n = deflate.Read(destination[total..])) > 0)
        {
            total += n;
        }

        return total;
    }
}

/// <summary>Serves ranges of an in-memory stored blob and records every request; can fail or stall on demand.</summary>
internal sealed class RecordingReader(byte[] stored) : IBlobRangeReader
{
    public ConcurrentQueue<(long Offset, int Length)> Requests { get; } = new();

    public Func<long, int, Exception?>? Fail { get; set; }

    public TaskCompletionSource? Gate { get; set; }

    /// <summary>Which requests (by stored offset) wait for <see cref="Gate"/>; all of them when null.</summary>
    public Func<long, bool>? GateWhen { get; set; }

    /// <summary>Latency added to every request (to observe requests in flight together).</summary>
    public TimeSpan Delay { get; set; }

    private int _inFlight;
    private int _maxInFlight;

    /// <summary>The most requests that were in flight at once.</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public async ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        Requests.Enqueue((offset, destination.Length));
        var now = Interlocked.Increment(ref _inFlight);
        int seen;
        while (now > (seen = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen)
        {
        }

        try
        {
            if (Gate is { } gate && (GateWhen?.Invoke(offset) ?? true))
            {
                await gate.Task.WaitAsync(cancellationToken);
            }

            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, cancellationToken);
            }

            if (Fail?.Invoke(offset, destination.Length) is { } error)
            {
                throw error;
            }

            stored.AsSpan((int)offset, destination.Length).CopyTo(destination.Span);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}

/// <summary>A cache file in memory: checks alignment like cachefiles does and records what was written.</summary>
internal sealed class MemorySink(long size) : IChunkSink
{
    private readonly Lock _lock = new();

    public byte[] Data { get; } = new byte[(size + 4095) & ~4095L];

    public bool[] Written { get; } = new bool[(size + 4095) / 4096];

    public int WriteCount { get; private set; }

    public unsafe FillResult Write(AlignedBuffer buffer, int length, long offset)
    {
        Assert.Equal(0, offset % 4096);
        Assert.Equal(0, (long)buffer.Pointer % 4096);
        var padded = AlignedBuffer.AlignUp(length);
        buffer.Span[length..padded].Clear();
        lock (_lock)
        {
            buffer.Span[..padded].CopyTo(Data.AsSpan((int)offset, padded));
            for (var page = offset / 4096; page < (offset + padded) / 4096; page++)
            {
                Written[page] = true;
            }

            WriteCount++;
        }

        return FillResult.Success;
    }
}
