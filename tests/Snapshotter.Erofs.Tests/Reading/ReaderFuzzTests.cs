using System.Diagnostics;
using Snapshotter.Erofs.Reading;
using Snapshotter.Erofs.Tests.Infrastructure;

namespace Snapshotter.Erofs.Tests.Reading;

/// <summary>
/// Mutation fuzzing: thousands of corrupted bootstraps, chunk tables and data blobs must only ever
/// produce <see cref="InvalidImageException"/> - no other exception, no hang, no unbounded allocation.
/// </summary>
public sealed class ReaderFuzzTests
{
    private const long MaxAllocationPerCase = 64L << 20;
    private static readonly TimeSpan MaxTimePerCase = TimeSpan.FromSeconds(2);
    private static readonly uint[] Interesting = [0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 4096, 4095];

    [Fact]
    public async Task ReadEverything_MutatedBootstraps_OnlyInvalidImageException()
    {
        SmallImage image = await SmallImage.BuildAsync();
        var devices = image.Blobs.Select(b => (IRandomAccessSource)DataBlob.Open(new MemorySource(b), image.Options.Compressor, image.Options.Digester)).ToList();
        ReadEverything(image.Bootstrap, devices);

        var random = new Random(12345);
        int rejected = 0;
        for (int i = 0; i < 4000; i++)
        {
            byte[] mutated = Mutate(image.Bootstrap, random, hotStart: 1024, hotLength: Math.Min(image.Bootstrap.Length - 1024, 16384));

            // Mostly re-sign the superblock so mutated fields reach the parser instead of the checksum check.
            if (random.Next(4) != 0)
            {
                mutated.AsSpan(1028, 4).Clear();
                BitConverter.TryWriteBytes(mutated.AsSpan(1028, 4), Crc32C(mutated.AsSpan(1024, 4096 - 1024)));
            }
            if (RunCase(() => ReadEverything(mutated, devices), $"bootstrap case {i}"))
            {
                rejected++;
            }
        }

        // Most mutations must be detected; a few land in padding and are harmless.
        Assert.InRange(rejected, 200, 4000);
    }

    [Fact]
    public async Task ReadEverything_MutatedDataBlobs_OnlyInvalidImageException()
    {
        SmallImage image = await SmallImage.BuildAsync(ChunkCompressor.Lz4Block);
        var random = new Random(777);
        int rejected = 0;
        for (int i = 0; i < 2000; i++)
        {
            int which = random.Next(image.Blobs.Count);
            byte[] blob = image.Blobs[which];

            // Aim at the tail (chunk-info table, blob-meta header, digests, ToC) most of the time.
            int tail = Math.Min(blob.Length, 4096 + 4096 + 2048);
            byte[] mutated = random.Next(4) == 0 ? Mutate(blob, random, 0, blob.Length) : Mutate(blob, random, blob.Length - tail, tail);
            if (RunCase(
                () =>
                {
                    var devices = image.Blobs.Select((b, k) => (IRandomAccessSource)DataBlob.Open(new MemorySource(k == which ? mutated : b), image.Options.Compressor, image.Options.Digester)).ToList();
                    ReadEverything(image.Bootstrap, devices);
                },
                $"blob case {i}"))
            {
                rejected++;
            }
        }

        Assert.InRange(rejected, 200, 2000);
    }

    private static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = uint.MaxValue;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0x82F63B78 ^ (crc >> 1) : crc >> 1;
            }
        }

        return crc;
    }

    private static bool RunCase(Action action, string name)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        bool rejected = false;
        try
        {
            action();
        }
        catch (InvalidImageException)
        {
            rejected = true;
        }
        catch (Exception e)
        {
            Assert.Fail($"{name}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
        }

        Assert.True(watch.Elapsed < MaxTimePerCase, $"{name} took {watch.Elapsed}");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < MaxAllocationPerCase, $"{name} allocated {allocated} bytes");
        return rejected;
    }

    private static byte[] Mutate(byte[] original, Random random, int hotStart, int hotLength)
    {
        byte[] data = (byte[])original.Clone();
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits; e++)
        {
            int at = hotStart + random.Next(hotLength);
            switch (random.Next(4))
            {
                case 0:
                    data[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    data[at] = (byte)random.Next(256);
                    break;
                case 2:
                    if (at + 4 <= data.Length)
                    {
                        BitConverter.TryWriteBytes(data.AsSpan(at, 4), Interesting[random.Next(Interesting.Length)]);
                    }

                    break;
                default:
                    if (at + 2 <= data.Length)
                    {
                        BitConverter.TryWriteBytes(data.AsSpan(at, 2), (ushort)Interesting[random.Next(Interesting.Length)]);
                    }

                    break;
            }
        }

        return data;
    }

    private static void ReadEverything(byte[] bootstrap, IReadOnlyList<IRandomAccessSource> devices)
    {
        using ErofsImage image = ErofsImage.Open(new MemorySource(bootstrap));
        byte[] buffer = new byte[65536];
        foreach (ErofsEntry entry in image.Walk())
        {
            ErofsInode inode = entry.Inode;
            _ = image.ReadXattrs(inode);
            if (inode.IsSymlink)
            {
                _ = image.ReadSymlink(inode);
            }
            else if (inode.IsRegularFile)
            {
                _ = image.ReadChunkIndexes(inode).Take(1024).Count();

                // Bounded: a corrupt size may describe a huge sparse file.
                for (long pos = 0; pos < (long)Math.Min(inode.Size, 1UL << 20);)
                {
                    pos += image.ReadFile(inode, pos, buffer, devices);
                }
            }
        }
    }
}
