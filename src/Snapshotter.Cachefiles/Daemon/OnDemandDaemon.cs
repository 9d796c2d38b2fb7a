using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Snapshotter.Telemetry;
using Snapshotter.Cachefiles.Interop;
using Snapshotter.Cachefiles.Protocol;
using Tmds.Linux;

namespace Snapshotter.Cachefiles.Daemon;

/// <summary>
/// The cachefiles on-demand daemon: holds <c>/dev/cachefiles</c> bound in on-demand mode, answers OPEN with the
/// object's size (or -ENOENT), serves READ by filling the cache file from an <see cref="ICacheObjectSource"/> and
/// completing the request exactly once (also on failure, so readers get EIO instead of hanging), and closes objects
/// on CLOSE. One thread polls the device; READs are served by a bounded set of workers.
/// </summary>
public sealed class OnDemandDaemon : IAsyncDisposable
{
    private readonly SafeFdHandle _device;
    private readonly ICacheObjectResolver _resolver;
    private readonly ILogger _logger;
    private readonly OnDemandDaemonOptions _options;
    private readonly SnapshotterMetrics _metrics;
    private readonly ConcurrentDictionary<uint, CacheObject> _objects = new();
    private readonly Channel<CachefilesRequest> _reads = Channel.CreateUnbounded<CachefilesRequest>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _loop;
    private readonly Task[] _workers;
    private readonly TaskCompletionSource _loopDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pendingOpens;

    private OnDemandDaemon(SafeFdHandle device, ICacheObjectResolver resolver, OnDemandDaemonOptions options, ILogger logger, SnapshotterMetrics metrics)
    {
        _metrics = metrics;
        _device = device;
        _resolver = resolver;
        _options = options;
        _logger = logger;
        _loop = new Thread(EventLoop) { IsBackground = true, Name = "cachefiles-ondemand" };
        _workers = Enumerable.Range(0, Math.Max(1, options.MaxConcurrentReads)).Select(_ => Task.Run(ReadWorkerAsync)).ToArray();
    }

    /// <summary>Objects currently open (for diagnostics and tests).</summary>
    public int OpenObjectCount => _objects.Count;

    /// <summary>Completes when the event loop ends (after <see cref="DisposeAsync"/> or a fatal device error).</summary>
    public Task Completion => _loopDone.Task;

    /// <summary>
    /// Opens the device, binds the cache in on-demand mode and starts serving. Throws
    /// <see cref="OnDemandUnsupportedException"/> with the reason when the kernel or the cache directory cannot do it.
    /// </summary>
    public static OnDemandDaemon Start(OnDemandDaemonOptions options, ICacheObjectResolver resolver, ILogger logger, SnapshotterMetrics? metrics = null)
    {
        var device = OpenBound(options);
        var daemon = new OnDemandDaemon(device, resolver, options, logger, metrics ?? SnapshotterMetrics.Shared);
        Log.Bound(logger, options.CacheDirectory, options.Tag);
        daemon._loop.Start();
        return daemon;
    }

    /// <summary>
    /// Proves that <see cref="Start"/> would work without serving: opens the device, binds the cache in on-demand mode
    /// and releases it at once (the kernel unbinds when the device is closed). Throws
    /// <see cref="OnDemandUnsupportedException"/> with the same reasons as <see cref="Start"/>.
    /// </summary>
    public static void ProbeBind(OnDemandDaemonOptions options)
    {
        using var device = OpenBound(options);
    }

    private static SafeFdHandle OpenBound(OnDemandDaemonOptions options)
    {
        SafeFdHandle device;
        var busySince = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                device = Syscalls.Open(options.DevicePath, LibC.O_RDWR);
                break;
            }
            catch (SyscallException e) when (e.ErrorNumber == LibC.EBUSY && busySince.Elapsed < options.BusyRetryTimeout)
            {
                Thread.Sleep(100);
            }
            catch (SyscallException e) when (e.ErrorNumber == LibC.ENOENT)
            {
                throw new OnDemandUnsupportedException(
                    $"{options.DevicePath} does not exist: this kernel has no cachefiles support (CONFIG_CACHEFILES, " +
                    "CONFIG_CACHEFILES_ONDEMAND and CONFIG_EROFS_FS_ONDEMAND are needed; Linux 5.19+, shared domains 6.1+)", e);
            }
            catch (SyscallException e) when (e.ErrorNumber == LibC.EBUSY)
            {
                throw new OnDemandUnsupportedException($"{options.DevicePath} is busy (EBUSY): another cache daemon (cachefilesd, nydusd, a running snapshotter, ...) holds it", e);
            }
        }

        try
        {
            Command(device, $"dir {options.CacheDirectory}", "the cache directory must exist");
            Command(device, $"tag {options.Tag}", "tags are at most 32 characters");
            Command(
                device,
                "bind ondemand",
                "the kernel lacks CONFIG_CACHEFILES_ONDEMAND, or the cache directory's filesystem lacks user xattrs or O_TMPFILE (use ext4, xfs or btrfs; not tmpfs)");
            return device;
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            _stop.Cancel();
        }

        await _loopDone.Task.ConfigureAwait(false);
        _reads.Writer.TryComplete();
        await Task.WhenAll(_workers).ConfigureAwait(false);
        while (Volatile.Read(ref _pendingOpens) > 0)
        {
            await Task.Delay(10).ConfigureAwait(false);
        }

        foreach (var item in _objects.Values)
        {
            item.Source.Closed();
            item.Fd.Dispose();
        }

        _objects.Clear();
        _device.Dispose();
        _stop.Dispose();
    }

    private static void Command(SafeFdHandle device, string command, string hint)
    {
        var result = Syscalls.WriteCommand(device, Encoding.ASCII.GetBytes(command));
        if (result != 0)
        {
            throw new OnDemandUnsupportedException($"cachefiles refused '{command}': {Errno.Describe(result)}; {hint}");
        }
    }

    private void EventLoop()
    {
        var buffer = new byte[CachefilesParser.MaxMessageSize];
        var pollMs = (int)Math.Clamp(_options.PollInterval.TotalMilliseconds, 10, 5000);
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var events = Syscalls.PollIn(_device, pollMs);
                if (events == 0)
                {
                    continue;
                }

                if (events < 0 || (events & ((ushort)LibC.POLLERR | (ushort)LibC.POLLHUP | (ushort)LibC.POLLNVAL)) != 0)
                {
                    Log.PollFailed(_logger, events < 0 ? Errno.Describe(events) : "revents 0x" + events.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
                    return;
                }

                // One read(2) returns exactly one message; 0 means nothing pending after all.
                var n = Syscalls.Read(_device, buffer);
                if (n <= 0)
                {
                    if (n < 0 && n != -LibC.EAGAIN)
                    {
                        Log.DeviceReadFailed(_logger, Errno.Describe((int)n));
                        Thread.Sleep(10);
                    }

                    continue;
                }

                if (!CachefilesParser.TryParse(buffer.AsSpan(0, (int)n), out var request, out var error))
                {
                    Log.Malformed(_logger, error!);
                    continue;
                }

                Dispatch(request);
            }
        }
        finally
        {
            _loopDone.TrySetResult();
        }
    }

    private void Dispatch(in CachefilesRequest request)
    {
        switch (request.Opcode)
        {
            case CachefilesOpcode.Read:
                Log.Read(_logger, request.MessageId, request.ObjectId, request.Offset, request.Length);
                _reads.Writer.TryWrite(request);
                break;
            case CachefilesOpcode.Open:
                Interlocked.Increment(ref _pendingOpens);
                var open = request;
                _ = Task.Run(() => HandleOpenAsync(open));
                break;
            case CachefilesOpcode.Close:
                if (_objects.TryRemove(request.ObjectId, out var closed))
                {
                    Log.Closed(_logger, request.ObjectId);
                    closed.Source.Closed();
                    closed.Fd.Dispose();
                }

                break;
        }
    }

    private async Task HandleOpenAsync(CachefilesRequest request)
    {
        var fd = new SafeFdHandle(request.Fd);

        // The kernel installs anonymous fds without O_CLOEXEC. Every child process we start (credential helpers,
        // test registries) would otherwise inherit them, and each copy pins the cache: /dev/cachefiles then stays
        // busy after we exit, until that child exits too.
        var cloexec = Syscalls.SetCloseOnExec(fd);
        if (cloexec != 0)
        {
            Log.CloseOnExecFailed(_logger, (int)request.Fd, Errno.Describe(cloexec));
        }

        try
        {
            ICacheObjectSource? source = null;
            try
            {
                source = await _resolver.ResolveAsync(request.VolumeKey!, request.CookieKey!, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Log.ResolveFailed(_logger, request.MessageId, request.VolumeKey!, request.CookieKey!, e);
            }

            if (source is null)
            {
                Log.UnknownCookie(_logger, request.MessageId, request.VolumeKey!, request.CookieKey!);
                Reply(request.MessageId, -LibC.ENOENT);
                fd.Dispose();
                return;
            }

            var item = new CacheObject(request.ObjectId, request.VolumeKey!, request.CookieKey!, fd, source);
            source.Opened(item.Writer);
            if (_objects.TryGetValue(request.ObjectId, out var previous) && !ReferenceEquals(previous, item))
            {
                // An object id seen again without a CLOSE in between: never leak the old anonymous fd
                // (each one pins the cache, and /dev/cachefiles stays busy until all are closed).
                previous.Fd.Dispose();
            }

            _objects[request.ObjectId] = item;
            Log.Opened(_logger, request.MessageId, request.ObjectId, request.VolumeKey!, request.CookieKey!, source.Size);
            Reply(request.MessageId, source.Size);
        }
        finally
        {
            Interlocked.Decrement(ref _pendingOpens);
        }
    }

    private void Reply(uint messageId, long size)
    {
        Span<byte> line = stackalloc byte[64];
        var length = CachefilesReplies.FormatCopen(line, messageId, size);
        var result = Syscalls.WriteCommand(_device, line[..length]);
        if (result != 0)
        {
            Log.CopenFailed(_logger, messageId, size, Errno.Describe(result));
        }
    }

    private async Task ReadWorkerAsync()
    {
        var reader = _reads.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var request))
            {
                await ServeReadAsync(request).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask ServeReadAsync(CachefilesRequest request)
    {
        if (!_objects.TryGetValue(request.ObjectId, out var item))
        {
            Log.ReadForUnknownObject(_logger, request.MessageId, request.ObjectId);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        FillResult result;
        try
        {
            result = await item.Source.FillAsync((long)request.Offset, (long)request.Length, item.Writer, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.ReadFailed(_logger, request.MessageId, request.ObjectId, request.Offset, request.Length, e.Message);
            result = FillResult.Failed(FillError.Faulted);
        }

        if (!result.IsSuccess && result.Error != FillError.Faulted)
        {
            Log.ReadFailed(_logger, request.MessageId, request.ObjectId, request.Offset, request.Length, $"{result.Error}: {Errno.Describe(result.Errno)}");
        }

        _metrics.RecordRead(ReadBackend.Fscache, (long)request.Length, Stopwatch.GetElapsedTime(started).TotalSeconds, failed: !result.IsSuccess);

        // Complete whatever happened: with holes left, the kernel fails the reader with EIO instead of hanging it.
        try
        {
            var done = Syscalls.Ioctl(item.Fd, CachefilesReplies.ReadCompleteIoctl, request.MessageId);
            if (done != 0)
            {
                Log.ReadCompleteFailed(_logger, request.MessageId, Errno.Describe(done));
            }
        }
        catch (ObjectDisposedException)
        {
            // CLOSE raced this READ: the kernel already dropped the request with the object.
        }
    }
}
