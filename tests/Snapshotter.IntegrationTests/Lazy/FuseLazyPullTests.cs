using System.Diagnostics;
using Snapshotter.IntegrationTests.Fixtures;
using Xunit.Abstractions;
using Snapshotter.Oci;

namespace Snapshotter.IntegrationTests.Lazy;

/// <summary>The lazy-pull acceptance with <c>--lazy-mode fuse</c>: blob files over FUSE, each read fetched from the registry on demand.</summary>
[Collection(IntegrationCollection.Name)]
public sealed class FuseLazyPullTests(FuseLazyFixture fixture, ITestOutputHelper output)
    : LazyPullTests(fixture, output), IClassFixture<FuseLazyFixture>
{
    /// <summary>Starting busybox and reading one small file may fetch a few chunks (busybox itself is ~2 MiB), never the 64 MiB file.</summary>
    public const double MaxColdReadShare = 0.10;

    /// <summary>fuse fetches only the chunks read: far less than the image, but more than nothing.</summary>
    protected override void AssertColdReadTraffic(IReadOnlyDictionary<string, long> servedBytes, IReadOnlyList<Descriptor> dataBlobs)
    {
        long served = servedBytes.Values.Sum();
        long total = dataBlobs.Sum(b => b.Size);
        Assert.True(served > 0, "the registry served no data blob byte: the read did not reach the registry (was the cache warm?)");
        Assert.True(served < MaxColdReadShare * total, $"the registry served {served} of {total} data blob bytes to read one small file");
    }

    [Fact]
    public async Task Read_RegistryStoppedWhileContainerRuns_ReaderGetsEioWithinTheTimeoutThenReadsAfterItReturns()
    {
        var ctr = NewCtr("eio");
        (await RpullAsync(ctr, Images.LazyReference)).EnsureSuccess();

        // A restart drops the lazily filled cache files: every read below is cold.
        Assert.Equal(0, await Lazy.Snapshotter.StopAsync());
        await Fixture.RestartSnapshotterAsync();
        string shared = Directory.CreateDirectory(Path.Combine(Fixture.Directory, "eio-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        const string script =
            "B=/bin/busybox; echo ready > /x/ready; " +
            "while [ ! -e /x/go1 ]; do $B sleep 0.1; done; $B sha256sum " + LazyTestImage.BigFile + " > /x/out1 2> /x/err1; echo $? > /x/rc1; " +
            "while [ ! -e /x/go2 ]; do $B sleep 0.1; done; $B sha256sum " + LazyTestImage.BigFile + " > /x/out2 2> /x/err2; echo $? > /x/rc2";
        (await ctr.RunAsync("run", "-d", "--snapshotter", Snapshotter, "--mount", $"type=bind,src={shared},dst=/x,options=rbind:rw",
            Images.LazyReference, ContainerId(), "/bin/busybox", "sh", "-c", script)).EnsureSuccess();
        await WaitForFileAsync(Path.Combine(shared, "ready"), TimeSpan.FromSeconds(60));

        await Registry.StopAsync();
        string rc1;
        TimeSpan failedAfter;
        try
        {
            var clock = Stopwatch.StartNew();
            await File.WriteAllTextAsync(Path.Combine(shared, "go1"), "");
            rc1 = await WaitForFileAsync(Path.Combine(shared, "rc1"), TimeSpan.FromSeconds(LazyContainerdFixture.FetchTimeoutSeconds + 30));
            failedAfter = clock.Elapsed;
        }
        finally
        {
            await Registry.StartAsync();
        }

        string err1 = await File.ReadAllTextAsync(Path.Combine(shared, "err1"));
        Output.WriteLine($"read with the registry down: exit {rc1.Trim()} after {failedAfter.TotalSeconds:F1}s: {err1.Trim()}");
        Assert.NotEqual("0", rc1.Trim());
        Assert.Matches("(?i)(i/o error|input/output error)", err1);
        Assert.True(failedAfter < TimeSpan.FromSeconds(LazyContainerdFixture.FetchTimeoutSeconds + 10), $"the read failed only after {failedAfter}");

        int mark = Registry.Mark();
        await File.WriteAllTextAsync(Path.Combine(shared, "go2"), "");
        string rc2 = await WaitForFileAsync(Path.Combine(shared, "rc2"), TimeSpan.FromSeconds(120));
        Assert.True(rc2.Trim() == "0", $"the read after the registry returned failed: {await File.ReadAllTextAsync(Path.Combine(shared, "err2"))}");
        string out2 = await File.ReadAllTextAsync(Path.Combine(shared, "out2"));
        Assert.StartsWith(Images.Expected.Files[LazyTestImage.BigFile] + "  ", out2, StringComparison.Ordinal);
        Assert.NotEmpty(Registry.BlobBytesSince(mark, ServeAgent));
    }

    /// <summary>Waits until a file the container writes is there and not empty; returns its content.</summary>
    private static async Task<string> WaitForFileAsync(string path, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (File.Exists(path) && await File.ReadAllTextAsync(path) is { Length: > 0 } content)
            {
                return content;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{path} did not appear within {timeout}: the reader hangs");
            }

            await Task.Delay(100);
        }
    }
}
