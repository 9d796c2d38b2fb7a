using System.Text.Json;

namespace Snapshotter.Oci.Tests;

public sealed class DescriptorJsonTests
{
    private const string Digest = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    [Fact]
    public void ToJson_PlainDescriptor_WritesOnlyTheRequiredFieldsInSpecOrder()
    {
        string json = DescriptorJson.ToJson(new Descriptor(MediaTypes.OciLayerTar, Digest, 3)).ToJsonString();

        Assert.Equal($$"""{"mediaType":"{{MediaTypes.OciLayerTar}}","digest":"{{Digest}}","size":3}""", json);
    }

    [Fact]
    public void TryRead_WhatToJsonWrote_RoundTripsEveryField()
    {
        var original = new Descriptor(MediaTypes.OciManifest, Digest, 42)
        {
            Annotations = new Dictionary<string, string> { [NydusAnnotations.Bootstrap] = "true" },
            Platform = new Platform("linux", "arm64", "v8"),
            Urls = ["https://mirror.example/blob"],
        };

        using JsonDocument doc = JsonDocument.Parse(DescriptorJson.ToJson(original).ToJsonString());
        Assert.True(DescriptorJson.TryRead(doc.RootElement, out Descriptor? read, out string? problem), problem);

        Assert.Equal((original.MediaType, original.Digest, original.Size), (read.MediaType, read.Digest, read.Size));
        Assert.Equal("true", read.Annotations[NydusAnnotations.Bootstrap]);
        Assert.Equal(original.Platform, read.Platform);
        Assert.Equal(original.Urls, read.Urls);
    }

    [Theory]
    [InlineData("""[]""", "not a JSON object")]
    [InlineData("""{"mediaType":"x","digest":"sha256:ab","size":1}""", "no valid digest")]
    [InlineData("""{"mediaType":"x","digest":"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}""", "no valid size")]
    [InlineData("""{"mediaType":"x","digest":"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","size":-1}""", "no valid size")]
    public void TryRead_Invalid_SaysWhy(string json, string expected)
    {
        using JsonDocument doc = JsonDocument.Parse(json);

        Assert.False(DescriptorJson.TryRead(doc.RootElement, out _, out string? problem));
        Assert.Contains(expected, problem);
    }

    [Fact]
    public void TryRead_NoOptionalFields_GivesEmptyAnnotationsAndUrls()
    {
        using JsonDocument doc = JsonDocument.Parse($$"""{"mediaType":"m","digest":"{{Digest}}","size":0,"annotations":"bad"}""");

        Assert.True(DescriptorJson.TryRead(doc.RootElement, out Descriptor? read, out _));
        Assert.Empty(read.Annotations);
        Assert.Empty(read.Urls);
        Assert.Null(read.Platform);
    }
}
