using Snapshotter.Lazy.Tests.Infrastructure;
using Snapshotter.Registry;
using Snapshotter.Registry.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Lazy.Tests.Fuse;

/// <summary>
/// Registry outages while an image is mounted in fuse mode: a reader of data not yet cached gets EIO within the
/// configured fetch timeout (never hangs), and the same read succeeds once the registry is back. The big file is
/// 24 MiB of random bytes in 1 MiB chunks: its last chunks are far from anything read before.
/// </summary>
[Collection(FuseRegistryCollection.Name)]
public sealed class FuseOutageTests(FuseRegistryFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(3);

    // What the kernel's retries of the failed read (answered at once: ChunkFailureHold) and a loaded host may add.
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(1);

    // The fetch timeout as `snapshotter mount --fetch-timeout` and serve's fetch_timeout_seconds set it.
    private static RegistryClientOptions ClientOptions => new() { HostsDirectory = null, OverallTimeout = FetchTimeout, AttemptTimeout = FetchTimeout };

    [Fact]
    public async Task Read_RegistryStopped_EioWithinTheFetchTimeoutThenSucceedsWhenItIsBack()
    {
        await using var harness = await LazyHarness.StartAsync(output, LazyMode.Fuse, ClientOptions, fallBack: false);
        var mnt = await harness.MountAsync(fixture.Reference);
        var big = Path.Combine(mnt, LazyTestImage.BigFile);
        var expected = fixture.Image.Files[LazyTestImage.BigFile];
        var offset = expected.Length - (2 * 1024 * 1024);

        // The first chunk: the blob's chunk table and its first data now come from the registry.
        var first = await ReadProbe.ReadAsync(big, 0, 4096, TimeSpan.FromSeconds(30));
        Assert.Equal(0, first.Errno);
        try
        {
            await fixture.StopRegistryAsync();

            var failed = await ReadProbe.ReadAsync(big, offset, 4096, FetchTimeout + TimeSpan.FromSeconds(30));

            Assert.Equal(ReadProbe.EIO, failed.Errno);
            Assert.True(failed.Elapsed < FetchTimeout + Slack, $"EIO came after {failed.Elapsed.TotalSeconds:F1} s (fetch timeout {FetchTimeout.TotalSeconds} s)");
        }
        finally
        {
            await fixture.StartRegistryAsync();
        }

        // At once: the failed chunks are held (answered EIO without fetching) only for the failed reader thread's retries.
        var again = await ReadProbe.ReadAsync(big, offset, 4096, TimeSpan.FromSeconds(30));
        Assert.Equal(0, again.Errno);
        Assert.Equal(expected.AsSpan(offset, 4096).ToArray(), again.Data);
        Assert.Equal(TreeAssert.Sha(expected), TreeAssert.ShaOfFile(big));
    }

    [Fact]
    public async Task Read_RegistryStallsMidBody_EioWithinTheFetchTimeoutThenSucceeds()
    {
        var options = ClientOptions;
        options.AttemptTimeout = TimeSpan.FromSeconds(1);
        await using var harness = await LazyHarness.StartAsync(output, LazyMode.Fuse, options, fallBack: false);
        var mnt = await harness.MountAsync(fixture.ProxyReference);
        var big = Path.Combine(mnt, LazyTestImage.BigFile);
        var expected = fixture.Image.Files[LazyTestImage.BigFile];
        var offset = expected.Length - (2 * 1024 * 1024);
        Assert.Equal(0, (await ReadProbe.ReadAsync(big, 0, 4096, TimeSpan.FromSeconds(30))).Errno);

        // Every attempt stalls after the headers: the registry took the request and went silent (retried per attempt
        // timeout until the fetch timeout is spent).
        fixture.Proxy.Enqueue(new Fault(FaultKind.StallBody), times: 50);
        try
        {
            var failed = await ReadProbe.ReadAsync(big, offset, 4096, FetchTimeout + TimeSpan.FromSeconds(30));

            Assert.Equal(ReadProbe.EIO, failed.Errno);
            Assert.True(failed.Elapsed < FetchTimeout + Slack, $"EIO came after {failed.Elapsed.TotalSeconds:F1} s (fetch timeout {FetchTimeout.TotalSeconds} s)");
        }
        finally
        {
            await DrainFaultsAsync();
        }

        var again = await ReadProbe.ReadAsync(big, offset, 4096, TimeSpan.FromSeconds(30));
        Assert.Equal(0, again.Errno);
        Assert.Equal(expected.AsSpan(offset, 4096).ToArray(), again.Data);
    }

    /// <summary>Takes the faults nobody used with blob GETs of our own that give up at once (the proxy has no way to drop them).</summary>
    private async Task DrainFaultsAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMilliseconds(300) };
        var blob = $"http://{fixture.Proxy.Host}/v2/lazy/fuse/blobs/{fixture.Converted.BigBlob.Digest}";
        while (fixture.Proxy.PendingFaults > 0)
        {
            try
            {
                using var response = await http.GetAsync(blob, HttpCompletionOption.ResponseContentRead);
            }
            catch (Exception e) when (e is TaskCanceledException or HttpRequestException)
            {
                // Stalled by the fault, as intended.
            }
        }
    }
}
