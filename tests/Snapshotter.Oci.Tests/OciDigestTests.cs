namespace Snapshotter.Oci.Tests;

public sealed class OciDigestTests
{
    [Fact]
    public void Compute_Abc_IsKnownSha256()
    {
        Assert.Equal("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", OciDigest.Compute("abc"u8));
    }

    [Theory]
    [InlineData("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", true)]
    [InlineData("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", false)]
    [InlineData("sha256:ba78", false)]
    [InlineData("sha512:" + "ab", false)]
    [InlineData("md5:ba7816bf8f01cfea414140de5dae2223", false)]
    [InlineData(null, false)]
    public void IsValid_Digest_ChecksAlgorithmAndHex(string? digest, bool expected)
    {
        Assert.Equal(expected, OciDigest.IsValid(digest));
    }

    [Fact]
    public void Matches_Sha512Digest_UsesSha512()
    {
        string digest = "sha512:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA512.HashData("abc"u8));

        Assert.True(OciDigest.IsValid(digest));
        Assert.True(OciDigest.Matches(digest, "abc"u8));
        Assert.False(OciDigest.Matches(digest, "abd"u8));
    }

    [Fact]
    public void Hex_ValidDigests_ReturnsThePartAfterTheAlgorithm()
    {
        string sha512 = "sha512:" + new string('a', 128);

        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", OciDigest.Hex("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        Assert.Equal(new string('a', 128), OciDigest.Hex(sha512));
        Assert.Equal("sha256:" + new string('0', 64), OciDigest.FromSha256Hex(new string('0', 64)));
    }

    [Theory]
    [InlineData("sha256:ba78")]
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    public void Hex_InvalidDigest_ThrowsFormatException(string digest)
    {
        Assert.Throws<FormatException>(() => OciDigest.Hex(digest));
    }

    [Fact]
    public void Compute_LikeSha512_HashesWithSha512()
    {
        string like = "sha512:" + new string('0', 128);
        string expected = "sha512:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA512.HashData("abc"u8));

        Assert.Equal(expected, OciDigest.Compute("abc"u8, like));
        Assert.Equal(OciDigest.Compute("abc"u8), OciDigest.Compute("abc"u8, "sha256:" + new string('0', 64)));
        Assert.False(OciDigest.IsSha256(expected));
        Assert.True(OciDigest.IsSha256(OciDigest.Compute("abc"u8)));
    }
}
