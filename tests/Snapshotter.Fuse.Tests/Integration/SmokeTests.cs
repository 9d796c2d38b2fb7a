using Snapshotter.Fuse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Fuse.Tests.Integration;

public sealed class SmokeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Read_SmallFile_ReturnsContent()
    {
        var file = MemoryFuseFile.Random("a.bin", 100_000, 1);
        await using var mount = FuseMount.Start(output, null, file);
        var read = await File.ReadAllBytesAsync(mount.File("a.bin"));
        Assert.Equal(file.Content, read);
    }
}
