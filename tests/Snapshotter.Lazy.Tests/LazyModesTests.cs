namespace Snapshotter.Lazy.Tests;

public sealed class LazyModesTests
{
    [Theory]
    [InlineData("auto", LazyMode.Auto)]
    [InlineData("fscache", LazyMode.Fscache)]
    [InlineData("blob-fetch", LazyMode.BlobFetch)]
    [InlineData(" Blob-Fetch ", LazyMode.BlobFetch)]
    [InlineData("FSCACHE", LazyMode.Fscache)]
    public void TryParse_KnownName_ModeWithoutError(string name, LazyMode expected)
    {
        Assert.True(LazyModes.TryParse(name, out var mode, out var error));
        Assert.Equal(expected, mode);
        Assert.Null(error);
    }

    [Theory]
    [InlineData("off")]
    [InlineData(" OFF ")]
    public void TryParse_Off_FalseWithoutError(string name)
    {
        Assert.False(LazyModes.TryParse(name, out _, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("fuse3")]
    [InlineData("")]
    [InlineData(null)]
    public void TryParse_UnknownName_FalseWithErrorListingTheNames(string? name)
    {
        Assert.False(LazyModes.TryParse(name, out _, out var error));
        Assert.NotNull(error);
        Assert.Contains("auto, fscache, fuse, blob-fetch, off", error);
    }

    [Fact]
    public void Name_EveryMode_ParsesBackToIt()
    {
        foreach (var mode in Enum.GetValues<LazyMode>())
        {
            Assert.True(LazyModes.TryParse(LazyModes.Name(mode), out var parsed, out _));
            Assert.Equal(mode, parsed);
            Assert.Contains(LazyModes.Name(mode), LazyModes.Names);
        }
    }
}
