using Snapshotter.Core.Remote;

namespace Snapshotter.Core.Tests.Remote;

public sealed class RemoteLabelsTests
{
    [Fact]
    public void ImageRef_CriAndStargzLabels_PrefersCri()
    {
        var both = new Dictionary<string, string>
        {
            [RemoteLabels.CriImageRef] = "reg/a:cri",
            [RemoteLabels.StargzReference] = "reg/a:stargz",
        };
        var stargzOnly = new Dictionary<string, string> { [RemoteLabels.StargzReference] = " reg/a:stargz " };

        Assert.Equal("reg/a:cri", RemoteLabels.ImageRef(both));
        Assert.Equal("reg/a:stargz", RemoteLabels.ImageRef(stargzOnly));
        Assert.Null(RemoteLabels.ImageRef(new Dictionary<string, string> { [RemoteLabels.CriImageRef] = "  " }));
    }

    [Fact]
    public void LayerDigest_EitherLabel_IsFound()
    {
        Assert.Equal("sha256:1", RemoteLabels.LayerDigest(new Dictionary<string, string> { [RemoteLabels.CriLayerDigest] = "sha256:1" }));
        Assert.Equal("sha256:2", RemoteLabels.LayerDigest(new Dictionary<string, string> { [RemoteLabels.StargzDigest] = "sha256:2" }));
        Assert.Null(RemoteLabels.LayerDigest(new Dictionary<string, string>()));
    }

    [Fact]
    public void Layers_CriOrStargzList_SkipsWhatIsNotADigest()
    {
        var a = "sha256:" + new string('a', 64);
        var b = "sha256:" + new string('b', 64);

        Assert.Equal([a, b], RemoteLabels.Layers(new Dictionary<string, string> { [RemoteLabels.CriImageLayers] = $"{a}, {b}" }));
        Assert.Equal([a], RemoteLabels.Layers(new Dictionary<string, string> { [RemoteLabels.StargzLayers] = $"{a},sha256:trunc" }));
        Assert.Empty(RemoteLabels.Layers(new Dictionary<string, string>()));
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("false", false)]
    [InlineData("", false)]
    public void IsDataBlob_Value_OnlyTrueCounts(string value, bool expected)
    {
        Assert.Equal(expected, RemoteLabels.IsDataBlob(new Dictionary<string, string> { [RemoteLabels.DataBlob] = value }));
        Assert.Equal(expected, RemoteLabels.IsBootstrap(new Dictionary<string, string> { [RemoteLabels.Bootstrap] = value }));
    }
}
