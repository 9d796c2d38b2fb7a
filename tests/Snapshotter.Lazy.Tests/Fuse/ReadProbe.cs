using System.Diagnostics;

namespace Snapshotter.Lazy.Tests.Fuse;

/// <summary>
/// One pread(2) of a mounted file on a thread of its own, bounded by a deadline: a read that hangs fails the test
/// instead of the test run. Reports the bytes read or the errno (.NET's IOException carries the raw errno as HResult).
/// </summary>
internal static class ReadProbe
{
    public const int EIO = 5;
    public const int ENOTCONN = 107;

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/>; fails the test if no answer comes within <paramref name="deadline"/>.</summary>
    public static async Task<(byte[]? Data, int Errno, TimeSpan Elapsed)> ReadAsync(string path, long offset, int length, TimeSpan deadline)
    {
        var watch = Stopwatch.StartNew();
        var read = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    using var handle = File.OpenHandle(path);
                    var buffer = new byte[length];
                    var n = RandomAccess.Read(handle, buffer, offset);
                    return (buffer[..n], 0);
                }
                catch (IOException e)
                {
                    return ((byte[]?)null, e.HResult);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        if (await Task.WhenAny(read, Task.Delay(deadline)) != read)
        {
            Assert.Fail($"a read of {path} at {offset} did not return within {deadline.TotalSeconds} s (it hangs)");
        }

        var (data, errno) = await read;
        return (data, errno, watch.Elapsed);
    }
}
