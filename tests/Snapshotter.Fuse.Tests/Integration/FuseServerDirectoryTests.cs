using System.Text.RegularExpressions;
using Snapshotter.Fuse.Protocol;
using Snapshotter.Fuse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Fuse.Tests.Integration;

public sealed partial class FuseServerDirectoryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task LsLong_ManyFiles_NamesSizesAndModesCorrect()
    {
        // 300 entries span several READDIRPLUS replies of one page each.
        var files = Enumerable.Range(0, 300).Select(i => new MemoryFuseFile($"blob-{i:D3}-{new string('x', i % 40)}.img", new byte[i * 7])).ToArray();
        await using var mount = FuseMount.Start(output, null, files);

        var listing = FuseEnvironment.Run("ls", "-ln", "--time-style=+%s", mount.Path);

        var lines = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
        Assert.Equal(files.Length, lines.Length);
        var parsed = lines.Select(l => LsLine().Match(l)).ToArray();
        Assert.All(parsed, m => Assert.True(m.Success));
        Assert.All(parsed, m => Assert.Equal("-r--r--r--", m.Groups["mode"].Value));
        Assert.All(parsed, m => Assert.Equal("0 0", m.Groups["owner"].Value));
        Assert.Equal(
            files.Select(f => (f.Name, f.Size)).OrderBy(x => x.Name, StringComparer.Ordinal),
            parsed.Select(m => (m.Groups["name"].Value, long.Parse(m.Groups["size"].Value))).OrderBy(x => x.Item1, StringComparer.Ordinal));
        Assert.True(mount.Server.Statistics.Requests(FuseOpcode.Readdirplus) + mount.Server.Statistics.Requests(FuseOpcode.Readdir) > 1);
    }

    [Fact]
    public async Task Stat_RootAndFiles_ModesInodesAndStatfs()
    {
        var a = MemoryFuseFile.Random("a.img", 10_000, 1);
        var b = MemoryFuseFile.Random("b.img", 3 * 4096, 2);
        await using var mount = FuseMount.Start(output, null, a, b);

        var root = FuseEnvironment.Run("stat", "-c", "%a %F %h", mount.Path).Trim();
        var fileA = FuseEnvironment.Run("stat", "-c", "%a %F %s %i %b", mount.File("a.img")).Trim().Split(' ');
        var fileB = FuseEnvironment.Run("stat", "-c", "%i", mount.File("b.img")).Trim();
        var statfs = FuseEnvironment.Run("stat", "-f", "-c", "%b %S %c %T", mount.Path).Trim().Split(' ');

        Assert.Equal("555 directory 2", root);
        Assert.Equal(["444", "regular", "file", "10000"], fileA[..4]);
        Assert.Equal("20", fileA[5]);
        Assert.NotEqual(fileA[4], fileB);
        Assert.Equal(fileA[4], FuseEnvironment.Run("stat", "-c", "%i", mount.File("a.img")).Trim());
        Assert.Equal(["6", "4096", "3"], statfs[..3]);
        Assert.Equal(1, mount.Server.Statistics.Requests(FuseOpcode.Statfs));
    }

    [Fact]
    public async Task AddRemove_AtRuntime_VisibleAtOnceAndOpenFilesKeepWorking()
    {
        var first = MemoryFuseFile.Random("img.blob", 64 * 1024, 1);
        await using var mount = FuseMount.Start(output, null, first);
        var path = mount.File("img.blob");
        Assert.True(File.Exists(path));
        using var kept = File.OpenHandle(path);
        var inodeBefore = FuseEnvironment.Run("stat", "-c", "%i", path).Trim();

        Assert.True(mount.Server.Remove("img.blob"));
        Assert.False(mount.Server.Remove("img.blob"));

        Assert.False(File.Exists(path));
        Assert.DoesNotContain("img.blob", Directory.GetFiles(mount.Path).Select(Path.GetFileName));
        var second = MemoryFuseFile.Random("img.blob", 32 * 1024, 2);
        mount.Server.Add(second);
        Assert.Equal(second.Content, await File.ReadAllBytesAsync(path));
        Assert.NotEqual(inodeBefore, FuseEnvironment.Run("stat", "-c", "%i", path).Trim());
        var old = new byte[first.Content.Length];
        Assert.Equal(old.Length, RandomAccess.Read(kept, old, 0));
        Assert.Equal(first.Content, old);
        Assert.Throws<InvalidOperationException>(() => mount.Server.Add(MemoryFuseFile.Random("img.blob", 1, 3)));
    }

    [Fact]
    public async Task Getxattr_Unsupported_AnsweredOnceThenKernelStopsAsking()
    {
        var file = MemoryFuseFile.Random("x.img", 100, 1);
        await using var mount = FuseMount.Start(output, null, file);

        FuseEnvironment.RunWithExit("getfattr", ["-n", "user.test", mount.File("x.img")], out var first);
        FuseEnvironment.RunWithExit("getfattr", ["-n", "user.other", mount.File("x.img")], out var second);

        Assert.NotEqual(0, first);
        Assert.NotEqual(0, second);
        Assert.Equal(1, mount.Server.Statistics.Requests(FuseOpcode.Getxattr));
    }

    [Fact]
    public async Task Mount_Default_RaisesBdiReadaheadToMaxReadahead()
    {
        await using var mount = FuseMount.Start(output, null, MemoryFuseFile.Random("a", 10, 1));

        var device = FuseEnvironment.Run("mountpoint", "-d", mount.Path).Trim();

        Assert.Equal("1024", File.ReadAllText($"/sys/class/bdi/{device}/read_ahead_kb").Trim());
    }

    [GeneratedRegex(@"^(?<mode>\S+)\s+1\s+(?<owner>\d+\s+\d+)\s+(?<size>\d+)\s+\d+\s+(?<name>.+)$")]
    private static partial Regex LsLine();
}
