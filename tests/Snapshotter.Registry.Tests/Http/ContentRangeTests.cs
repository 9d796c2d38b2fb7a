using Snapshotter.Registry.Http;

namespace Snapshotter.Registry.Tests.Http;

public sealed class ContentRangeTests
{
    [Theory]
    [InlineData("bytes 0-99/1000", 0, 99, 1000)]
    [InlineData("bytes 5-5/*", 5, 5, -1)]
    [InlineData("  BYTES 10-19/20 ", 10, 19, 20)]
    public void TryParse_Valid_ReturnsRange(string value, long first, long last, long length)
    {
        Assert.True(ContentRange.TryParse(value, out ContentRange range));
        Assert.Equal(new ContentRange(first, last, length), range);
    }

    [Theory]
    [InlineData("bytes */1000")]
    [InlineData("bytes 10-5/100")]
    [InlineData("bytes 0-99/99")]
    [InlineData("items 0-9/10")]
    [InlineData("bytes 0-9")]
    [InlineData("bytes -1-9/10")]
    public void TryParse_Invalid_ReturnsFalse(string value)
    {
        Assert.False(ContentRange.TryParse(value, out _));
    }
}
