using System.Collections.Concurrent;
using System.Numerics;

namespace Snapshotter.Cache.Buffers;

/// <summary>
/// Pools page-aligned buffers in power-of-two size classes (64 KiB .. 64 MiB) so that serving a READ
/// allocates nothing once the pool is warm. Buffers beyond <see cref="MaxRetainedPerClass"/> are freed.
/// </summary>
public sealed class AlignedBufferPool : IDisposable
{
    public const int MinClassSize = 64 * 1024;
    public const int MaxClassSize = 64 * 1024 * 1024;
    public const int MaxRetainedPerClass = 32;

    private readonly ConcurrentBag<AlignedBuffer>[] _classes = Enumerable.Range(0, ClassCount).Select(_ => new ConcurrentBag<AlignedBuffer>()).ToArray();

    private static int ClassCount => BitOperations.Log2(MaxClassSize) - BitOperations.Log2(MinClassSize) + 1;

    /// <summary>Shared pool for the process.</summary>
    public static AlignedBufferPool Shared { get; } = new();

    /// <summary>Rents a buffer of at least <paramref name="minimumSize"/> bytes (at most 64 MiB).</summary>
    public AlignedBuffer Rent(int minimumSize)
    {
        if (minimumSize > MaxClassSize)
        {
            throw new ArgumentOutOfRangeException(nameof(minimumSize), minimumSize, $"at most {MaxClassSize} bytes");
        }

        var index = ClassIndex(minimumSize);
        return _classes[index].TryTake(out var buffer) ? buffer : new AlignedBuffer(MinClassSize << index);
    }

    public void Return(AlignedBuffer buffer)
    {
        var index = ClassIndex(buffer.Capacity);
        if ((MinClassSize << index) != buffer.Capacity || _classes[index].Count >= MaxRetainedPerClass)
        {
            buffer.Dispose();
            return;
        }

        _classes[index].Add(buffer);
    }

    public void Dispose()
    {
        foreach (var bag in _classes)
        {
            while (bag.TryTake(out var buffer))
            {
                buffer.Dispose();
            }
        }
    }

    private static int ClassIndex(int size)
    {
        var rounded = BitOperations.RoundUpToPowerOf2((uint)Math.Max(size, MinClassSize));
        return BitOperations.Log2(rounded) - BitOperations.Log2(MinClassSize);
    }
}
