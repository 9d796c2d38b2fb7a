using Snapshotter.Fuse.Protocol;
using Snapshotter.Fuse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Fuse.Tests.Integration;

public sealed class FuseServerReadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Read_RandomRangesOfMemoryFiles_MatchContent()
    {
        var big = MemoryFuseFile.Random("big.bin", (5 << 20) + 123, 1);
        var one = MemoryFuseFile.Random("one.bin", 1, 2);
        var empty = new MemoryFuseFile("empty.bin", []);
        await using var mount = FuseMount.Start(output, new FuseServerOptions { KeepCache = false }, big, one, empty);
        var random = new Random(7);
        var buffer = new byte[3 << 20];

        for (var i = 0; i < 200; i++)
        {
            var offset = random.Next(0, (int)big.Size + 4096);
            var length = random.Next(2) == 0 ? random.Next(1, 8192) : random.Next(1, buffer.Length);
            if (i % 10 == 0)
            {
                Reads.DropFileCache(mount.File("big.bin"));
            }

            var n = Reads.Pread(mount.File("big.bin"), offset, buffer.AsSpan(0, length));

            var expected = Math.Max(0, Math.Min(length, (int)big.Size - offset));
            Assert.Equal(expected, n);
            Assert.True(buffer.AsSpan(0, n).SequenceEqual(big.Content.AsSpan(Math.Min(offset, (int)big.Size), n)), $"bytes differ at [{offset}, +{length})");
        }

        Assert.Equal(big.Content, await File.ReadAllBytesAsync(mount.File("big.bin")));
        Assert.Equal(one.Content, await File.ReadAllBytesAsync(mount.File("one.bin")));
        Assert.Empty(await File.ReadAllBytesAsync(mount.File("empty.bin")));
        Assert.Equal(0, empty.Reads);
        Assert.True(mount.Server.Statistics.Requests(FuseOpcode.Read) > 10);
        Assert.True(mount.Server.Statistics.ReadBytes >= big.Size);
    }

    [Fact]
    public async Task Read_LocalFileBacked_MatchesFile()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("blob");
        var content = new byte[(8 << 20) + 4097];
        new Random(3).NextBytes(content);
        await File.WriteAllBytesAsync(path, content);
        using var local = new LocalFuseFile("blob.img", path, passthrough: false);
        await using var mount = FuseMount.Start(output, null, local);

        Assert.Equal(content, await File.ReadAllBytesAsync(mount.File("blob.img")));
        Assert.Equal(0, mount.Server.Statistics.PassthroughOpens);
    }

    [Fact]
    public async Task Read_SixteenConcurrentReaders_AllBytesCorrectWithParallelReads()
    {
        var source = MemoryFuseFile.Random("data.bin", 16 << 20, 11);
        var delayed = new DelayedFuseFile(source, TimeSpan.FromMilliseconds(2));
        await using var mount = FuseMount.Start(output, new FuseServerOptions { KeepCache = false }, delayed);
        var path = mount.File("data.bin");

        var readers = Enumerable.Range(0, 16).Select(r => Task.Factory.StartNew(
            () =>
            {
                var random = new Random(100 + r);
                var buffer = new byte[256 * 1024];
                for (var i = 0; i < 40; i++)
                {
                    var offset = random.Next(0, (int)source.Size);
                    var length = random.Next(1, buffer.Length);
                    var n = Reads.Pread(path, offset, buffer.AsSpan(0, length));
                    var expected = Math.Min(length, (int)source.Size - offset);
                    if (n != expected || !buffer.AsSpan(0, n).SequenceEqual(source.Content.AsSpan(offset, n)))
                    {
                        throw new InvalidDataException($"reader {r}: [{offset}, +{length}) returned {n} bytes or wrong data");
                    }
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromMinutes(2));

        output.WriteLine($"peak concurrent READs in the file: {delayed.PeakConcurrency}, READs: {mount.Server.Statistics.Requests(FuseOpcode.Read)}");
        Assert.True(delayed.PeakConcurrency > 2, $"READs were not served in parallel (peak {delayed.PeakConcurrency})");
    }

    [Theory]
    [InlineData(5, false)]
    [InlineData(110, false)]
    [InlineData(5, true)]
    public async Task Read_FileFails_ReaderGetsErrno(int errno, bool throws)
    {
        var failing = new FailingFuseFile("bad.bin", 1 << 20, errno, throws);
        var good = MemoryFuseFile.Random("good.bin", 4096, 5);
        await using var mount = FuseMount.Start(output, null, failing, good);

        var n = Reads.Pread(mount.File("bad.bin"), 0, new byte[4096]);

        Assert.Equal(-errno, n);
        Assert.True(mount.Server.Statistics.ReadErrors >= 1);
        Assert.Equal(good.Content, await File.ReadAllBytesAsync(mount.File("good.bin")));
    }

    [Fact]
    public async Task Read_KeepCache_SecondOpenCausesNoRead()
    {
        var file = MemoryFuseFile.Random("k.bin", 1 << 20, 9);
        await using var mount = FuseMount.Start(output, new FuseServerOptions { KeepCache = true }, file);
        Assert.Equal(file.Content, await File.ReadAllBytesAsync(mount.File("k.bin")));
        var before = mount.Server.Statistics.Snapshot();

        Assert.Equal(file.Content, await File.ReadAllBytesAsync(mount.File("k.bin")));

        var delta = mount.Server.Statistics.Since(before);
        Assert.False(delta.ContainsKey(FuseOpcode.Read), $"READs after re-open: {delta.GetValueOrDefault(FuseOpcode.Read)}");
    }

    [Fact]
    public async Task Read_WithoutKeepCache_SecondOpenReadsAgain()
    {
        var file = MemoryFuseFile.Random("k.bin", 1 << 20, 9);
        await using var mount = FuseMount.Start(output, new FuseServerOptions { KeepCache = false }, file);
        Assert.Equal(file.Content, await File.ReadAllBytesAsync(mount.File("k.bin")));
        var before = mount.Server.Statistics.Snapshot();

        Assert.Equal(file.Content, await File.ReadAllBytesAsync(mount.File("k.bin")));

        Assert.True(mount.Server.Statistics.Since(before).GetValueOrDefault(FuseOpcode.Read) > 0);
    }

    [Fact]
    public async Task Read_Passthrough_KernelReadsBackingFileWithoutReads()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("blob");
        var content = new byte[4 << 20];
        new Random(4).NextBytes(content);
        await File.WriteAllBytesAsync(path, content);
        using var local = new LocalFuseFile("blob.img", path, passthrough: true);
        await using var mount = FuseMount.Start(output, new FuseServerOptions { Passthrough = true }, local);
        Assert.True(mount.Server.PassthroughEnabled, "the host kernel (6.18) did not accept FUSE_PASSTHROUGH");

        Assert.Equal(content, await File.ReadAllBytesAsync(mount.File("blob.img")));

        Assert.Equal(1, mount.Server.Statistics.PassthroughOpens);
        Assert.Equal(0, mount.Server.Statistics.Requests(FuseOpcode.Read));
    }

    [Fact]
    public async Task Open_ForWriting_Refused()
    {
        var file = MemoryFuseFile.Random("ro.bin", 10, 1);
        await using var mount = FuseMount.Start(output, null, file);

        var e = Assert.ThrowsAny<IOException>(() => File.OpenHandle(mount.File("ro.bin"), FileMode.Open, FileAccess.ReadWrite));

        output.WriteLine(e.Message);
        Assert.ThrowsAny<IOException>(() => File.WriteAllText(mount.File("new.txt"), "x"));
    }
}
