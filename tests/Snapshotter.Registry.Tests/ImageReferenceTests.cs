namespace Snapshotter.Registry.Tests;

public sealed class ImageReferenceTests
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("ubuntu", "docker.io", "library/ubuntu", "latest", null, "docker.io/library/ubuntu:latest")]
    [InlineData("ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", null, "docker.io/library/ubuntu:22.04")]
    [InlineData("bitnami/redis", "docker.io", "bitnami/redis", "latest", null, "docker.io/bitnami/redis:latest")]
    [InlineData("docker.io/ubuntu", "docker.io", "library/ubuntu", "latest", null, "docker.io/library/ubuntu:latest")]
    [InlineData("index.docker.io/library/busybox:1", "docker.io", "library/busybox", "1", null, "docker.io/library/busybox:1")]
    [InlineData("ghcr.io/org/app/sub:v1.2-rc_3", "ghcr.io", "org/app/sub", "v1.2-rc_3", null, "ghcr.io/org/app/sub:v1.2-rc_3")]
    [InlineData("localhost/app", "localhost", "app", "latest", null, "localhost/app:latest")]
    [InlineData("127.0.0.1:5000/a/b:t", "127.0.0.1:5000", "a/b", "t", null, "127.0.0.1:5000/a/b:t")]
    [InlineData("[::1]:5000/app", "[::1]:5000", "app", "latest", null, "[::1]:5000/app:latest")]
    [InlineData("reg.example/app@" + Digest, "reg.example", "app", null, Digest, "reg.example/app@" + Digest)]
    [InlineData("reg.example/app:v1@" + Digest, "reg.example", "app", "v1", Digest, "reg.example/app:v1@" + Digest)]
    [InlineData("a.b/c__d/e-f.g", "a.b", "c__d/e-f.g", "latest", null, "a.b/c__d/e-f.g:latest")]
    public void Parse_ValidReference_Normalizes(string input, string registry, string repository, string? tag, string? digest, string text)
    {
        ImageReference reference = ImageReference.Parse(input);

        Assert.Equal(registry, reference.Registry);
        Assert.Equal(repository, reference.Repository);
        Assert.Equal(tag, reference.Tag);
        Assert.Equal(digest, reference.Digest);
        Assert.Equal(text, reference.ToString());
    }

    [Fact]
    public void ApiHost_DockerHub_IsRegistry1()
    {
        Assert.Equal("registry-1.docker.io", ImageReference.Parse("ubuntu").ApiHost);
        Assert.Equal("ghcr.io", ImageReference.Parse("ghcr.io/a/b").ApiHost);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Ubuntu", "lowercase")]
    [InlineData("ubuntu:", "tag")]
    [InlineData("ubuntu:-bad", "tag")]
    [InlineData("ubuntu@sha256:abc", "digest")]
    [InlineData("ubuntu@md5:0123456789abcdef0123456789abcdef", "digest")]
    [InlineData("reg.example/app//x", "repository")]
    [InlineData("reg.example/-app", "repository")]
    [InlineData("reg.example:99999/app", "registry host")]
    [InlineData("reg..example/app", "registry host")]
    [InlineData("with space/app", "whitespace")]
    [InlineData("reg.example/a..b", "repository")]
    public void Parse_InvalidReference_ThrowsInvalidReferenceWithReason(string input, string reason)
    {
        var ex = Assert.Throws<RegistryException>(() => ImageReference.Parse(input));

        Assert.Equal(RegistryErrorKind.InvalidReference, ex.Kind);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithDigest_ManifestReference_PrefersDigest()
    {
        ImageReference reference = ImageReference.Parse("reg.example/app:v1").WithDigest(Digest);

        Assert.Equal(Digest, reference.ManifestReference);
        Assert.Equal("v1", reference.Tag);
    }

    [Fact]
    public void BlobLocatorParse_ReferenceWithoutDigest_Throws()
    {
        Assert.Equal(Digest, BlobLocator.Parse("reg.example/app@" + Digest).Digest);
        Assert.Equal(RegistryErrorKind.InvalidReference, Assert.Throws<RegistryException>(() => BlobLocator.Parse("reg.example/app:v1")).Kind);
    }
}
