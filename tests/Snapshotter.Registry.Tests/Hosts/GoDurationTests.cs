using Snapshotter.Registry.Hosts;

namespace Snapshotter.Registry.Tests.Hosts;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("1s", 1_000)]
    [InlineData("300ms", 300)]
    [InlineData("1.5s", 1_500)]
    [InlineData(".5s", 500)]
    [InlineData("1m30s", 90_000)]
    [InlineData("2h45m", 9_900_000)]
    [InlineData("1500us", 1.5)]
    [InlineData("1500\u00b5s", 1.5)]
    [InlineData("2000000ns", 2)]
    [InlineData("-1s", -1_000)]
    [InlineData("+1s", 1_000)]
    public void TryParse_GoSyntax_ReturnsDuration(string text, double milliseconds)
    {
        Assert.True(GoDuration.TryParse(text, out TimeSpan value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("s")]
    [InlineData("1x")]
    [InlineData("1 s")]
    [InlineData("1..2s")]
    [InlineData("-")]
    public void TryParse_NotGoSyntax_ReturnsFalse(string text)
    {
        Assert.False(GoDuration.TryParse(text, out _));
    }
}
