using Snapshotter.Lazy.Backends;

namespace Snapshotter.Lazy.Tests.Backends;

/// <summary>The choice of a cachefiles session's EROFS domain, from the text of /proc/fs/fscache/volumes as Linux 6.1 writes it.</summary>
public sealed class FscacheDomainTests : IDisposable
{
    private const string Header = """
        VOLUME   REF   nCOOK ACC FL CACHE           KEY
        ======== ===== ===== === == =============== ================

        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("fscache-domain-").FullName;

    [Fact]
    public void Choose_NoVolumeOfTheDomain_KeepsTheConfiguredDomain()
    {
        string volumes = Header + "00000003     3     1   1 00 other           erofs,other\n";

        Assert.Equal("lazysnap", FscacheDomain.Choose("lazysnap", volumes, () => throw new InvalidOperationException("no suffix needed")));
    }

    [Fact]
    public void Choose_VolumesUnreadable_KeepsTheConfiguredDomain()
    {
        Assert.Equal("lazysnap", FscacheDomain.Choose("lazysnap", null, () => "x"));
    }

    [Fact]
    public void Choose_DomainVolumeStillAlive_PicksAFreshDomainNoLiveVolumeUses()
    {
        string volumes = Header +
            "00000001    55     4   1 00 lazysnap        erofs,lazysnap\n" +
            "00000002     5     2   1 00 lazysnap        erofs,lazysnap-aaaa\n";
        var suffixes = new Queue<string>(["aaaa", "bbbb"]);

        Assert.Equal("lazysnap-bbbb", FscacheDomain.Choose("lazysnap", volumes, suffixes.Dequeue));
    }

    [Fact]
    public void IsAlive_DomainIsAPrefixOfAnother_MatchesOnlyTheWholeKey()
    {
        string volumes = Header + "00000002     5     2   1 00 lazysnap        erofs,lazysnap-aaaa\n";

        Assert.False(FscacheDomain.IsAlive(volumes, "lazysnap"));
        Assert.True(FscacheDomain.IsAlive(volumes, "lazysnap-aaaa"));
    }

    [Fact]
    public void DeleteUnusedFreshDomains_DeadFreshDomains_DeletesOnlyThoseKeepsConfiguredLiveAndCurrent()
    {
        foreach (string name in new[] { "Ierofs,lazysnap", "Ierofs,lazysnap-dead1", "Ierofs,lazysnap-live1", "Ierofs,lazysnap-mine1", "Ierofs,other-x" })
        {
            Directory.CreateDirectory(Path.Combine(_dir, "cache", name, "@00"));
            File.WriteAllText(Path.Combine(_dir, "cache", name, "@00", "Dblob"), "cached");
        }

        string volumes = Header + "00000002     5     2   1 00 lazysnap        erofs,lazysnap-live1\n";

        int deleted = FscacheDomain.DeleteUnusedFreshDomains(_dir, "lazysnap", volumes, current: "lazysnap-mine1");

        Assert.Equal(1, deleted);
        Assert.Equal(
            ["Ierofs,lazysnap", "Ierofs,lazysnap-live1", "Ierofs,lazysnap-mine1", "Ierofs,other-x"],
            Directory.GetDirectories(Path.Combine(_dir, "cache")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void DeleteUnusedFreshDomains_VolumesUnreadable_DeletesNothing()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "cache", "Ierofs,lazysnap-dead1"));

        Assert.Equal(0, FscacheDomain.DeleteUnusedFreshDomains(_dir, "lazysnap", null, "lazysnap"));
        Assert.True(Directory.Exists(Path.Combine(_dir, "cache", "Ierofs,lazysnap-dead1")));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
