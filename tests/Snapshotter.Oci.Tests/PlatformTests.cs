namespace Snapshotter.Oci.Tests;

public sealed class PlatformTests
{
    [Theory]
    [InlineData("linux/amd64", "linux/amd64")]
    [InlineData("linux/x86_64", "linux/amd64")]
    [InlineData("Linux/AArch64", "linux/arm64/v8")]
    [InlineData("linux/arm64", "linux/arm64/v8")]
    [InlineData("linux/arm", "linux/arm/v7")]
    [InlineData("linux/arm/6", "linux/arm/v6")]
    [InlineData("windows/amd64", "windows/amd64")]
    public void Parse_KnownAliases_Normalizes(string input, string expected)
    {
        Assert.Equal(expected, Platform.Parse(input).ToString());
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("linux/")]
    [InlineData("a/b/c/d")]
    public void Parse_Malformed_ThrowsFormatException(string input)
    {
        Assert.Contains("expected os/architecture[/variant]", Assert.Throws<FormatException>(() => Platform.Parse(input)).Message);
    }

    [Theory]
    [InlineData("linux/amd64", "linux", "amd64", null, true)]
    [InlineData("linux/amd64", "linux", "arm64", null, false)]
    [InlineData("linux/amd64", "windows", "amd64", null, false)]
    [InlineData("linux/arm64", "linux", "arm64", "v8", true)]
    [InlineData("linux/arm64", "linux", "arm64", null, true)]
    [InlineData("linux/arm/v7", "linux", "arm", "v6", false)]
    [InlineData("linux/amd64/v3", "linux", "amd64", null, true)]
    public void Matches_IndexEntry_FollowsVariantRules(string wanted, string os, string arch, string? variant, bool expected)
    {
        Assert.Equal(expected, Platform.Parse(wanted).Matches(new Platform(os, arch, variant)));
    }
}
