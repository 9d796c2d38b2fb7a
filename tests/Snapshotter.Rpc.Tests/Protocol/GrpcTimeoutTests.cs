using Snapshotter.Rpc.Protocol;

namespace Snapshotter.Rpc.Tests.Protocol;

public sealed class GrpcTimeoutTests
{
    public static TheoryData<string, TimeSpan> ValidValues => new()
    {
        { "1H", TimeSpan.FromHours(1) },
        { "2M", TimeSpan.FromMinutes(2) },
        { "30S", TimeSpan.FromSeconds(30) },
        { "100m", TimeSpan.FromMilliseconds(100) },
        { "1500u", TimeSpan.FromTicks(15_000) },
        { "1000000n", TimeSpan.FromMilliseconds(1) },
        { "99n", TimeSpan.Zero },
        { "0m", TimeSpan.Zero },
        { "99999999S", TimeSpan.FromSeconds(99_999_999) },
        { "00000005S", TimeSpan.FromSeconds(5) },
    };

    [Theory]
    [MemberData(nameof(ValidValues))]
    public void TryParse_ValidValue_ReturnsTimeout(string value, TimeSpan expected)
    {
        Assert.True(GrpcTimeout.TryParse(value, out TimeSpan timeout));
        Assert.Equal(expected, timeout);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("10s")]
    [InlineData("10 S")]
    [InlineData("-1S")]
    [InlineData("+1S")]
    [InlineData("123456789S")]
    [InlineData("1.5S")]
    [InlineData("1x")]
    [InlineData("１S")]
    public void TryParse_MalformedValue_ReturnsFalse(string value)
    {
        Assert.False(GrpcTimeout.TryParse(value, out _));
    }

    [Theory]
    [InlineData(0L, "0u")]
    [InlineData(10L, "1u")]
    [InlineData(TimeSpan.TicksPerSecond * 5, "5000000u")]
    [InlineData(TimeSpan.TicksPerSecond * 1000, "1000000m")]
    [InlineData(TimeSpan.TicksPerDay * 10, "864000S")]
    [InlineData(TimeSpan.TicksPerDay * 36500, "52560000M")]
    [InlineData(-TimeSpan.TicksPerSecond, "0u")]
    public void Format_Timeout_UsesFinestUnitWithinEightDigits(long ticks, string expected)
    {
        Assert.Equal(expected, GrpcTimeout.Format(TimeSpan.FromTicks(ticks)));
    }

    [Fact]
    public void Format_MaxValue_StaysParseable()
    {
        string formatted = GrpcTimeout.Format(TimeSpan.MaxValue);

        Assert.True(GrpcTimeout.TryParse(formatted, out TimeSpan parsed));
        Assert.True(parsed > TimeSpan.FromDays(365 * 1000));
    }
}
