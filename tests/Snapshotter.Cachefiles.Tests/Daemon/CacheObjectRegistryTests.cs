using Snapshotter.Cachefiles.Daemon;

namespace Snapshotter.Cachefiles.Tests.Daemon;

public sealed class CacheObjectRegistryTests
{
    private sealed class FixedSource(long size) : ICacheObjectSource
    {
        public long Size { get; } = size;

        public ValueTask<int> FillAsync(long offset, long length, CacheObjectWriter writer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(0);
    }

    [Fact]
    public async Task ResolveAsync_BootstrapAndBlobs_ByVolumeAndCookie()
    {
        var registry = new CacheObjectRegistry();
        var boot = new FixedSource(4096);
        var blob = new FixedSource(1 << 20);
        registry.Register(new ImageRegistration("img1", "dom", boot, new Dictionary<string, ICacheObjectSource> { ["aa"] = blob }));

        Assert.Same(boot, await registry.ResolveAsync("erofs,dom", "img1"));
        Assert.Same(blob, await registry.ResolveAsync("erofs,dom", "aa"));
        Assert.Null(await registry.ResolveAsync("erofs,img1", "img1"));
        Assert.Null(await registry.ResolveAsync("erofs,dom", "bb"));
    }

    [Fact]
    public async Task ResolveAsync_NoDomain_VolumeIsNamedAfterFsid()
    {
        var registry = new CacheObjectRegistry();
        var boot = new FixedSource(4096);
        registry.Register(new ImageRegistration("solo", null, boot, new Dictionary<string, ICacheObjectSource>()));

        Assert.Same(boot, await registry.ResolveAsync("erofs,solo", "solo"));
    }

    [Fact]
    public async Task Register_SameBlobInTwoImagesOfOneDomain_IsOneObjectUntilLastUnregister()
    {
        var registry = new CacheObjectRegistry();
        var first = new FixedSource(100);
        var second = new FixedSource(100);
        registry.Register(new ImageRegistration("a", "d", new FixedSource(1), new Dictionary<string, ICacheObjectSource> { ["shared"] = first }));
        registry.Register(new ImageRegistration("b", "d", new FixedSource(1), new Dictionary<string, ICacheObjectSource> { ["shared"] = second }));

        Assert.Same(first, await registry.ResolveAsync("erofs,d", "shared"));
        Assert.True(registry.Unregister("a", "d"));
        Assert.Same(first, await registry.ResolveAsync("erofs,d", "shared"));
        Assert.Null(await registry.ResolveAsync("erofs,d", "a"));
        Assert.True(registry.Unregister("b", "d"));
        Assert.Null(await registry.ResolveAsync("erofs,d", "shared"));
        Assert.False(registry.Unregister("b", "d"));
        Assert.Equal(0, registry.ImageCount);
    }

    [Fact]
    public void Register_DuplicateFsidInDomain_Throws()
    {
        var registry = new CacheObjectRegistry();
        registry.Register(new ImageRegistration("a", "d", new FixedSource(1), new Dictionary<string, ICacheObjectSource>()));

        var e = Assert.Throws<InvalidOperationException>(() =>
            registry.Register(new ImageRegistration("a", "d", new FixedSource(1), new Dictionary<string, ICacheObjectSource>())));
        Assert.Contains("fsid a", e.Message);
    }
}
