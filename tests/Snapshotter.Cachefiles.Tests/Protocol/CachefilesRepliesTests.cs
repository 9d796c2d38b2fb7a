using System.Text;
using Snapshotter.Cachefiles.Protocol;

namespace Snapshotter.Cachefiles.Tests.Protocol;

public sealed class CachefilesRepliesTests
{
    [Theory]
    [InlineData(7u, 1048576L, "copen 7,1048576")]
    [InlineData(0u, 0L, "copen 0,0")]
    [InlineData(4294967295u, -2L, "copen 4294967295,-2")]
    [InlineData(12u, 1099511627776L, "copen 12,1099511627776")]
    public void FormatCopen_WritesKernelCommand(uint id, long size, string expected)
    {
        Span<byte> buffer = stackalloc byte[64];

        var n = CachefilesReplies.FormatCopen(buffer, id, size);

        Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..n]));
    }

    [Fact]
    public void ReadCompleteIoctl_IsIowMagic98Nr1Int() =>
        // _IOW(0x98, 1, int) = (1 << 30) | (sizeof(int) << 16) | (0x98 << 8) | 1
        Assert.Equal((1 << 30) | (4 << 16) | (0x98 << 8) | 1, CachefilesReplies.ReadCompleteIoctl);
}
