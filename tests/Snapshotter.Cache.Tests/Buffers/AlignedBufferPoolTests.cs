using Snapshotter.Cache.Buffers;


namespace Snapshotter.Cache.Tests.Buffers;

public sealed class AlignedBufferPoolTests
{
    [Theory]
    [InlineData(1, 64 * 1024)]
    [InlineData(65536, 65536)]
    [InlineData(65537, 131072)]
    [InlineData(1048576, 1048576)]
    [InlineData(3 * 1048576, 4 * 1048576)]
    public unsafe void Rent_RoundsUpToPageAlignedPowerOfTwo(int request, int expected)
    {
        using var pool = new AlignedBufferPool();

        var buffer = pool.Rent(request);

        Assert.Equal(expected, buffer.Capacity);
        Assert.Equal(0, (long)buffer.Pointer % 4096);
        pool.Return(buffer);
    }

    [Fact]
    public void Rent_AfterReturn_ReusesTheBuffer()
    {
        using var pool = new AlignedBufferPool();
        var first = pool.Rent(100_000);
        pool.Return(first);

        var second = pool.Rent(120_000);

        Assert.Same(first, second);
        pool.Return(second);
    }

    [Fact]
    public void Rent_WarmPool_AllocatesNothing()
    {
        using var pool = new AlignedBufferPool();
        pool.Return(pool.Rent(1 << 20));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            pool.Return(pool.Rent(1 << 20));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Rent_TooLarge_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBufferPool().Rent(AlignedBufferPool.MaxClassSize + 1));
}
