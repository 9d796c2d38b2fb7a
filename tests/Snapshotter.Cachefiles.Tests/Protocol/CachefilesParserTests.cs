using System.Buffers.Binary;
using System.Text;
using Snapshotter.Cachefiles.Protocol;

namespace Snapshotter.Cachefiles.Tests.Protocol;

public sealed class CachefilesParserTests
{
    private static byte[] Header(uint msgId, uint opcode, uint len, uint objectId, int totalSize)
    {
        var buffer = new byte[totalSize];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, msgId);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), opcode);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(8), len);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(12), objectId);
        return buffer;
    }

    private static byte[] Open(uint msgId, uint objectId, string volume, byte[] cookie, uint fd, uint? volumeSizeOverride = null)
    {
        var volumeBytes = Encoding.UTF8.GetBytes(volume + "\0");
        var len = 16 + 16 + volumeBytes.Length + cookie.Length;
        var buffer = Header(msgId, 0, (uint)len, objectId, len);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(16), volumeSizeOverride ?? (uint)volumeBytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(20), (uint)cookie.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(24), fd);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(28), 0);
        volumeBytes.CopyTo(buffer, 32);
        cookie.CopyTo(buffer, 32 + volumeBytes.Length);
        return buffer;
    }

    [Fact]
    public void TryParse_Read_DecodesOffsetAndLength()
    {
        var buffer = Header(7, 2, 32, 3, 32);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(16), 0x1_0000_2000);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(24), 65536);

        Assert.True(CachefilesParser.TryParse(buffer, out var request, out var error), error);

        Assert.Equal((7u, CachefilesOpcode.Read, 3u, 0x1_0000_2000ul, 65536ul), (request.MessageId, request.Opcode, request.ObjectId, request.Offset, request.Length));
    }

    [Fact]
    public void TryParse_Open_DecodesKeysAndFd()
    {
        var buffer = Open(1, 9, "erofs,domain", Encoding.ASCII.GetBytes("0123abcd"), 42);

        Assert.True(CachefilesParser.TryParse(buffer, out var request, out var error), error);

        Assert.Equal(CachefilesOpcode.Open, request.Opcode);
        Assert.Equal("erofs,domain", request.VolumeKey);
        Assert.Equal("0123abcd", request.CookieKey);
        Assert.Equal(42, request.Fd);
        Assert.Equal(9u, request.ObjectId);
    }

    [Fact]
    public void TryParse_Close_HasNoPayload()
    {
        Assert.True(CachefilesParser.TryParse(Header(5, 1, 16, 4, 16), out var request, out _));

        Assert.Equal((CachefilesOpcode.Close, 4u, 5u), (request.Opcode, request.ObjectId, request.MessageId));
    }

    [Fact]
    public void TryParse_ReadBufferLongerThanLen_UsesLenOnly()
    {
        var buffer = Header(1, 1, 16, 2, 1024);

        Assert.True(CachefilesParser.TryParse(buffer, out var request, out _));
        Assert.Equal(CachefilesOpcode.Close, request.Opcode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(15)]
    public void TryParse_ShorterThanHeader_Fails(int size)
    {
        Assert.False(CachefilesParser.TryParse(new byte[size], out _, out var error));
        Assert.Contains("header", error);
    }

    [Theory]
    [InlineData(8u, 16)]
    [InlineData(40u, 32)]
    [InlineData(2048u, 2048)]
    public void TryParse_LenFieldInconsistent_Fails(uint len, int size)
    {
        Assert.False(CachefilesParser.TryParse(Header(1, 2, len, 1, size), out _, out var error));
        Assert.Contains("length field", error);
    }

    [Fact]
    public void TryParse_TruncatedReadPayload_Fails()
    {
        Assert.False(CachefilesParser.TryParse(Header(3, 2, 24, 1, 24), out _, out var error));
        Assert.Contains("READ message 3", error);
    }

    [Fact]
    public void TryParse_TruncatedOpenHeader_Fails()
    {
        Assert.False(CachefilesParser.TryParse(Header(3, 0, 24, 1, 24), out _, out var error));
        Assert.Contains("OPEN message 3", error);
    }

    [Fact]
    public void TryParse_OpenKeySizesBeyondPayload_Fails()
    {
        var buffer = Open(4, 1, "erofs,x", [1, 2, 3], 5, volumeSizeOverride: 4000);

        Assert.False(CachefilesParser.TryParse(buffer, out _, out var error));
        Assert.Contains("key sizes", error);
    }

    [Fact]
    public void TryParse_OpenWithEmptyVolumeKey_Fails()
    {
        var buffer = Open(4, 1, "x", [1], 5, volumeSizeOverride: 0);

        Assert.False(CachefilesParser.TryParse(buffer, out _, out var error));
        Assert.Contains("key sizes", error);
    }

    [Fact]
    public void TryParse_UnknownOpcode_Fails()
    {
        Assert.False(CachefilesParser.TryParse(Header(6, 99, 16, 1, 16), out _, out var error));
        Assert.Contains("unknown opcode 99", error);
    }

    [Fact]
    public void TryParse_RandomBytes_NeverThrows()
    {
        var random = new Random(1234);
        var buffer = new byte[1024];
        for (var i = 0; i < 20000; i++)
        {
            random.NextBytes(buffer);
            var size = random.Next(0, buffer.Length + 1);
            // Make the length field plausible half the time so the payload parsers are exercised too.
            if (size >= 16 && (i & 1) == 0)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(8), (uint)random.Next(16, size + 1));
                BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), (uint)random.Next(0, 3));
            }

            _ = CachefilesParser.TryParse(buffer.AsSpan(0, size), out _, out _);
        }
    }
}
