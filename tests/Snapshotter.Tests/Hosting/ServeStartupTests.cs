using System.Net.Sockets;

namespace Snapshotter.Tests.Hosting;

/// <summary>
/// containerd's proxy client does not retry its first call: the socket of a starting <c>snapshotter serve</c> must
/// accept connections from the moment its path exists, and already have mode 0660.
/// </summary>
public sealed class ServeStartupTests
{
    private const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    [Fact]
    public async Task Serve_Starting_SocketAcceptsFromTheMomentItExistsWithMode0660()
    {
        // A few starts: the window this guards against (path bound but not listening, mode not yet set) is short.
        for (var run = 0; run < 3; run++)
        {
            var dir = Directory.CreateTempSubdirectory("servestart").FullName;
            var address = Path.Combine(dir, "run", "snapshotter.sock");
            using var stop = new CancellationTokenSource();
            var result = new ProbeResult();
            var probe = Task.Factory.StartNew(() => ProbeUntilStopped(address, result, stop.Token), TaskCreationOptions.LongRunning);
            try
            {
                await using (var serve = await ServeProcess.StartAsync(Path.Combine(dir, "root"), address))
                {
                    // Keep probing a little after the daemon reported it listens, at least until the probe (a thread
                    // that a loaded machine may not schedule for a while) has connected a few times.
                    var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
                    do
                    {
                        await Task.Delay(200);
                    }
                    while (Volatile.Read(ref result.ConnectedCount) < 3 && DateTime.UtcNow < deadline);

                    await stop.CancelAsync();
                    await probe;

                    Assert.True(result.Connected > 0, $"run {run}: never connected");
                    Assert.Empty(result.Failures);
                    Assert.Equal(SocketMode, result.FirstMode);
                }
            }
            finally
            {
                await stop.CancelAsync();
                await probe;
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    /// <summary>Connects in a tight loop; every attempt made after the path was seen must succeed.</summary>
    private static void ProbeUntilStopped(string path, ProbeResult result, CancellationToken stop)
    {
        var endpoint = new UnixDomainSocketEndPoint(path);
        while (!stop.IsCancellationRequested)
        {
            UnixFileMode mode;
            try
            {
                // The mode first, then the connection: both are what a client arriving right now would see.
                mode = File.GetUnixFileMode(path);
            }
            catch (FileNotFoundException)
            {
                continue;
            }
            catch (DirectoryNotFoundException)
            {
                continue;
            }

            result.FirstMode ??= mode;
            if (mode != SocketMode && result.Failures.Count < 20)
            {
                result.Failures.Add($"mode {Convert.ToString((int)mode, 8)}");
            }

            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(endpoint);
                Interlocked.Increment(ref result.ConnectedCount);
            }
            catch (SocketException e) when (result.Failures.Count >= 20)
            {
                _ = e;
            }
            catch (SocketException e)
            {
                result.Failures.Add($"connect after the path existed: {e.SocketErrorCode}");
            }
        }

    }

    private sealed class ProbeResult
    {
        // A field: the test polls it (Volatile) while the probe thread counts.
        public int ConnectedCount;

        public int Connected => Volatile.Read(ref ConnectedCount);

        public UnixFileMode? FirstMode { get; set; }

        public List<string> Failures { get; } = [];
    }
}
