using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Snapshotter.Cache.Fetching;
using Snapshotter.Telemetry;
using Snapshotter.Cachefiles.Daemon;
using Snapshotter.Core;
using Snapshotter.Lazy;
using Snapshotter.Erofs.Tests.Interop;
using Snapshotter.Registry;
using Xunit.Abstractions;

namespace Snapshotter.KernelTests.Images;

/// <summary>
/// Issue acceptance on the real on-demand kernel: an image converted into a real registry, mounted lazily, read
/// through EROFS over fscache with every byte fetched on demand.
/// </summary>
public sealed class LazyImageKernelTests(LazyImageFixture fixture, ITestOutputHelper output) : IClassFixture<LazyImageFixture>
{
    private static string NewDir(string prefix) =>
        Directory.CreateDirectory(Path.Combine(KernelEnvironment.Scratch, prefix + "-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    private sealed class Session(LazyFileSystem lazy, RegistryClient client, SnapshotterMetrics metrics, ILoggerFactory loggers, string reference) : IAsyncDisposable
    {
        public LazyFileSystem Lazy { get; } = lazy;

        public SnapshotterMetrics Metrics { get; } = metrics;

        /// <summary>Resolves the fixture image from the registry and mounts it at a new directory.</summary>
        public async Task<string> MountAsync(string prefix)
        {
            var mnt = Directory.CreateTempSubdirectory(prefix).FullName;
            var image = await Lazy.ResolveImageAsync(ImageReference.Parse(reference));
            await Lazy.MountAsync(image, mnt);
            return mnt;
        }

        public async ValueTask DisposeAsync()
        {
            // Unmounts everything, then stops the cachefiles daemon.
            await Lazy.DisposeAsync();
            client.Dispose();
            loggers.Dispose();
        }
    }

    private async Task<Session> StartAsync(TimeSpan? fetchTimeout = null, int amplify = 1024 * 1024, int readahead = 4 * 1024 * 1024)
    {
        var loggers = LoggerFactory.Create(b => b.AddProvider(new TestOutputLoggerProvider(output)).SetMinimumLevel(LogLevel.Information));
        var timeout = fetchTimeout ?? TimeSpan.FromSeconds(60);
        var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = null, OverallTimeout = timeout, AttemptTimeout = timeout, RetryMaxDelay = TimeSpan.FromSeconds(1) });
        var metrics = new SnapshotterMetrics();
        var lazy = await LazyFileSystem.CreateAsync(
            new LazyOptions
            {
                Mode = LazyMode.Fscache,
                FallBackWhenUnavailable = false,
                CacheDirectory = NewDir("cache"),
                Fetch = new ChunkFetcherOptions { AmplifyWindow = amplify, ReadaheadWindow = readahead },
            },
            client,
            loggers,
            metrics);
        Assert.Equal("fscache", lazy.Mode);
        return new Session(lazy, client, metrics, loggers, fixture.Reference);
    }

    private static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static string ShaOfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private void AssertWholeTree(string mnt)
    {
        foreach (var (path, data) in fixture.Image.Files)
        {
            Assert.True(Sha(data) == ShaOfFile(Path.Combine(mnt, path)), $"{path} differs");
        }

        foreach (var (path, target) in fixture.Image.Symlinks)
        {
            Assert.Equal(target, new FileInfo(Path.Combine(mnt, path)).LinkTarget);
        }

        Assert.False(File.Exists(Path.Combine(mnt, "deleted.txt")), "whiteout not applied");
        Assert.Equal(fixture.Image.Xattr.Value, Xattrs.Get(Path.Combine(mnt, fixture.Image.Xattr.Path), fixture.Image.Xattr.Name));
    }

    [Fact]
    public async Task MountCommand_ConvertedImage_EveryFileMatchesSourceAndSigtermUnmounts()
    {
        var mnt = Directory.CreateTempSubdirectory("climnt").FullName;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "snapshotter.dll"), "mount", fixture.Reference, mnt, "--cache-dir", NewDir("cli"), "--hosts-dir", "/nonexistent" })
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        try
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(5));
            Assert.True(first == $"mounted {mnt}", $"unexpected first line '{first}': {(process.HasExited ? await stderr : string.Empty)}");

            AssertWholeTree(mnt);

            Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(process.ExitCode == 0, await stderr);
            Assert.False(File.Exists(Path.Combine(mnt, TestImageBuilder.BigFile)), "still mounted after SIGTERM");
        }
        finally
        {
            if (!process.HasExited)
            {
                // Never leave a daemon holding /dev/cachefiles for the next test.
                process.Kill();
                await process.WaitForExitAsync();
                ErofsMounter.Unmount(mnt, detach: true);
            }
        }
    }

    [Fact]
    public async Task Mount_SixteenConcurrentReadersAtRandomOffsets_ExactBytes()
    {
        await using var session = await StartAsync();
        var mnt = await session.MountAsync("mnt16");
        var expected = fixture.Image.Files[TestImageBuilder.BigFile];

        await Task.WhenAll(Enumerable.Range(0, 16).Select(seed => Task.Run(() =>
        {
            var random = new Random(seed);
            using var file = File.OpenHandle(Path.Combine(mnt, TestImageBuilder.BigFile));
            var buffer = new byte[100_000];
            for (var i = 0; i < 20; i++)
            {
                var offset = random.NextInt64(0, expected.Length);
                var want = (int)Math.Min(buffer.Length, expected.Length - offset);
                var n = RandomAccess.Read(file, buffer.AsSpan(0, want), offset);
                Assert.Equal(want, n);
                Assert.True(expected.AsSpan((int)offset, n).SequenceEqual(buffer.AsSpan(0, n)), $"reader {seed} at {offset}");
            }
        })));

        Assert.Equal(0, session.Metrics.DigestFailureCount);
    }

    [Fact]
    public async Task Mount_TwoMountsInOneDomain_EachChunkFetchedOnce()
    {
        // No amplification or readahead: exactly the chunks of the file are wanted, so duplicates would show.
        await using var session = await StartAsync(amplify: 0, readahead: 0);
        var a = await session.MountAsync("mnta");
        var b = await session.MountAsync("mntb");
        Assert.True(session.Lazy.IsMounted(a) && session.Lazy.IsMounted(b));
        Assert.Equal(fixture.Conversion.DataBlobs.Count, session.Lazy.BlobsInUse);
        var expected = Sha(fixture.Image.Files[TestImageBuilder.BigFile]);

        var hashes = await Task.WhenAll(
            Task.Run(() => ShaOfFile(Path.Combine(a, TestImageBuilder.BigFile))),
            Task.Run(() => ShaOfFile(Path.Combine(b, TestImageBuilder.BigFile))));

        Assert.All(hashes, h => Assert.Equal(expected, h));
        var chunksOfBigFile = (64 * 1024 * 1024) / LazyImageFixture.ChunkSize;
        output.WriteLine($"chunk misses {session.Metrics.ChunkMissCount}, hits {session.Metrics.ChunkHitCount}, fetched {session.Metrics.FetchedByteCount} bytes");
        Assert.InRange(session.Metrics.ChunkMissCount, chunksOfBigFile, chunksOfBigFile + 2);
        var storedTotal = fixture.Conversion.DataBlobs.Sum(d => d.Size);
        Assert.True(session.Metrics.FetchedByteCount <= storedTotal, $"fetched {session.Metrics.FetchedByteCount} > all data blobs {storedTotal}");
    }

    [Fact]
    public async Task Mount_SmallFileRead_FetchesAboutTheAmplificationWindow()
    {
        const int window = 1024 * 1024;
        await using var session = await StartAsync(amplify: window);
        var mnt = await session.MountAsync("mntsmall");

        var data = await File.ReadAllBytesAsync(Path.Combine(mnt, "small", "f0123.txt"));

        Assert.Equal(fixture.Image.Files["small/f0123.txt"], data);
        output.WriteLine($"fetched {session.Metrics.FetchedByteCount} bytes in {session.Metrics.RegistryRequestCount} requests");
        Assert.InRange(session.Metrics.FetchedByteCount, 1, window + LazyImageFixture.ChunkSize);
        Assert.True(session.Metrics.FetchedByteCount * 20 < fixture.Conversion.DataBlobs.Sum(d => d.Size), "a small read fetched a large part of the image");
    }

    [Fact]
    public async Task Mount_RegistryStoppedMidRead_EioWithinTimeoutThenReadsSucceedWhenBack()
    {
        var timeout = TimeSpan.FromSeconds(5);
        await using var session = await StartAsync(fetchTimeout: timeout, amplify: 0);
        var mnt = await session.MountAsync("mntdown");
        var expected = fixture.Image.Files[TestImageBuilder.BigFile];
        using var file = File.OpenHandle(Path.Combine(mnt, TestImageBuilder.BigFile));
        var buffer = new byte[4096];
        Assert.Equal(4096, RandomAccess.Read(file, buffer, 0));

        fixture.Registry.Stop();
        try
        {
            var watch = Stopwatch.StartNew();
            var e = Assert.ThrowsAny<IOException>(() => RandomAccess.Read(file, buffer, 40L * 1024 * 1024));
            output.WriteLine($"read with the registry down failed after {watch.ElapsedMilliseconds} ms: {e.Message}");
            Assert.True(watch.Elapsed < timeout * 3 + TimeSpan.FromSeconds(10), $"EIO took {watch.Elapsed}");
        }
        finally
        {
            fixture.Registry.Start();
        }

        Assert.Equal(4096, RandomAccess.Read(file, buffer, 40L * 1024 * 1024));
        Assert.True(expected.AsSpan(40 * 1024 * 1024, 4096).SequenceEqual(buffer));
        Assert.True(session.Metrics.ReadFailureCount >= 1);
    }

    [Fact]
    public async Task Mount_NotALazyImage_FailsWithClearError()
    {
        await using var session = await StartAsync();
        using var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = null });
        var plain = Snapshotter.Registry.ImageReference.Parse($"{fixture.Registry.Host}/kernel/plain:v1");
        var config = "{}"u8.ToArray();
        var configDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(config));
        await client.PushBlobAsync(new BlobLocator(plain, configDigest), new MemoryStream(config));
        var manifest = System.Text.Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{configDigest}}","size":2},"layers":[]}""");
        await client.PushManifestAsync(plain, "application/vnd.oci.image.manifest.v1+json", manifest);

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => session.Lazy.ResolveImageAsync(plain));

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains("not a lazily pullable image", e.Message);
    }
}
