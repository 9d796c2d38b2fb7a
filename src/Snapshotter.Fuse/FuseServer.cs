using Microsoft.Extensions.Logging;
using Snapshotter.Fuse.Interop;
using Snapshotter.Fuse.Nodes;
using Snapshotter.Fuse.Session;
using Tmds.Linux;

namespace Snapshotter.Fuse;

/// <summary>
/// A FUSE filesystem of one flat, read-only directory of <see cref="IFuseFile"/>s, served on /dev/fuse directly (no
/// libfuse). Meant for blob files that the kernel's EROFS is mounted from: the kernel does all metadata work and
/// page caching, and only data misses arrive here as READs. Device readers (one thread per cloned fd) answer
/// metadata requests inline and hand each READ to dedicated read workers, so any number of READs can be in flight; an
/// INTERRUPT cancels its READ and answers it EINTR. Files can be added and removed while mounted.
/// </summary>
public sealed partial class FuseServer : IAsyncDisposable, IFuseReadCompletion
{
    private const int MaxWrite = 128 * 1024;

    private readonly string _mountPoint;
    private readonly FuseServerOptions _options;
    private readonly ILogger _logger;
    private readonly SafeFdHandle _session;
    private readonly SafeFdHandle _wake;
    private readonly List<FuseDeviceReader> _readers = [];
    private readonly FuseNodeTable _nodes = new();
    private readonly DirectoryHandles _directories = new();
    private readonly InFlightReads _inFlight = new();
    private readonly FuseReadOperationPool _pool;
    private readonly FuseReadWorkers _workers;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<FuseNegotiation> _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _startUnixSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private int _runningReaders;
    private int _outstandingReads;
    private int _disposed;
    private string? _endReason;

    private FuseServer(string mountPoint, FuseServerOptions options, ILogger logger, SafeFdHandle session, SafeFdHandle wake)
    {
        _mountPoint = mountPoint;
        _options = options;
        _logger = logger;
        _session = session;
        _wake = wake;
        _answerInterrupted = operation =>
        {
            Statistics.CountInterruptedRead();
            operation.WriteReply(0, Errno.EINTR);
        };
        _workers = new FuseReadWorkers(options.ReadWorkers);
        _pool = new FuseReadOperationPool(this, options.MaxPages * NativeBuffer.PageSize, retain: 16 + 2 * options.ReaderThreads);
    }

    /// <summary>Request counters of this session.</summary>
    public FuseStatistics Statistics { get; } = new();

    /// <summary>Completes when the session ends: unmounted, DESTROY, the connection aborted, or <see cref="DisposeAsync"/>.</summary>
    public Task Completion => _completion.Task;

    /// <summary>The mount point (absolute).</summary>
    public string MountPoint => _mountPoint;

    /// <summary>Whether the kernel accepted FUSE_PASSTHROUGH at INIT (only asked with <see cref="FuseServerOptions.Passthrough"/>).</summary>
    public bool PassthroughEnabled => Negotiation.Passthrough;

    /// <summary>The protocol minor in use (the smaller of the kernel's and ours).</summary>
    public uint ProtocolMinor => Negotiation.Minor;

    internal FuseNegotiation Negotiation => _initialized.Task.IsCompletedSuccessfully
        ? _initialized.Task.Result
        : throw new InvalidOperationException("the FUSE session is not initialized");

    ILogger IFuseReadCompletion.Logger => _logger;

    /// <summary>
    /// Opens the FUSE device, mounts it read-only on <paramref name="mountPoint"/> (an existing directory) with
    /// mount(2) and waits for the kernel's INIT. Needs CAP_SYS_ADMIN. Throws <see cref="IOException"/> naming the
    /// failed call (e.g. /dev/fuse missing: the fuse module is not loaded).
    /// </summary>
    public static FuseServer Mount(string mountPoint, FuseServerOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.MaxPages, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ReaderThreads, 1);
        mountPoint = Path.GetFullPath(mountPoint);
        if (!Directory.Exists(mountPoint))
        {
            throw new DirectoryNotFoundException($"mount point {mountPoint} does not exist");
        }

        // Non-blocking, so readers can wait in poll(2) together with the shutdown eventfd.
        var session = Syscalls.Open(options.DevicePath, LibC.O_RDWR | LibC.O_NONBLOCK);
        SafeFdHandle? wake = null;
        FuseServer? server = null;
        try
        {
            wake = Syscalls.EventFd();
            var type = options.Subtype is null ? "fuse" : $"fuse.{options.Subtype}";
            var maxRead = options.MaxPages * NativeBuffer.PageSize;
            var data = $"fd={session.Fd},rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions,max_read={maxRead}";
            MountCalls.Mount(options.FsName, mountPoint, type, (ulong)(LibC.MS_RDONLY | LibC.MS_NOSUID | LibC.MS_NODEV), data);
            server = new FuseServer(mountPoint, options, logger, session, wake);
            server.StartReaders();
            if (!server._initialized.Task.Wait(options.InitTimeout))
            {
                throw new TimeoutException($"the kernel sent no FUSE INIT on {mountPoint} within {options.InitTimeout}");
            }

            server.RaiseBdiReadahead();
            return server;
        }
        catch
        {
            if (server is not null)
            {
                server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            else
            {
                MountCalls.Unmount(mountPoint, detach: true);
                wake?.Dispose();
                session.Dispose();
            }

            throw;
        }
    }

    /// <summary>Adds a file to the directory; throws <see cref="InvalidOperationException"/> when the name is taken.</summary>
    public void Add(IFuseFile file) => _nodes.Add(file, DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    /// <summary>
    /// Removes a file from the directory and drops the kernel's cached name. Open files (an EROFS mount's blob)
    /// keep being served until they are closed. Returns false when no such file is served. Do not call it from
    /// <see cref="IFuseFile.ReadAsync(long, Memory{byte}, CancellationToken)"/> (the invalidation may wait for requests in that directory).
    /// </summary>
    public bool Remove(string name)
    {
        var node = _nodes.Remove(name, out var backingId);
        if (node is null)
        {
            return false;
        }

        CloseBacking(backingId);
        InvalidateEntry(node);
        return true;
    }

    /// <summary>
    /// Unmounts (lazily with MNT_DETACH when busy), stops the device readers, cancels READs in flight and closes the
    /// device. Users of a detached mount that is still in use then get ENOTCONN.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _completion.Task.ConfigureAwait(false);
            return;
        }

        var result = MountCalls.Unmount(_mountPoint, detach: false);
        if (result == -Errno.EBUSY)
        {
            Log.UnmountDetached(_logger, _mountPoint);
            result = MountCalls.Unmount(_mountPoint, detach: true);
        }

        if (result != 0 && result != -Errno.EINVAL && result != -Errno.ENOENT)
        {
            Log.UnmountFailed(_logger, _mountPoint, Errno.Describe(result));
        }

        // A completed unmount ends the connection (the readers see ENODEV); otherwise wake them ourselves.
        await Task.WhenAny(_completion.Task, Task.Delay(TimeSpan.FromMilliseconds(500))).ConfigureAwait(false);
        await StopReadersAsync("disposed").ConfigureAwait(false);
        await DrainReadsAsync().ConfigureAwait(false);
        _workers.Dispose();
        foreach (var backingId in _nodes.Clear())
        {
            CloseBacking(backingId);
        }

        foreach (var reader in _readers)
        {
            if (!ReferenceEquals(reader.Device, _session))
            {
                reader.Device.Dispose();
            }

            reader.Dispose();
        }

        _session.Dispose();
        _wake.Dispose();
        _pool.Dispose();
        _initialized.TrySetException(new ObjectDisposedException(nameof(FuseServer)));
    }

    /// <summary>
    /// Test hook: what the kernel sees when the server process dies. Stops the readers and closes every device fd
    /// without unmounting, so the mount stays behind and reports ENOTCONN.
    /// </summary>
    internal async Task AbandonAsync()
    {
        Interlocked.Exchange(ref _disposed, 1);
        await StopReadersAsync("abandoned").ConfigureAwait(false);
        await DrainReadsAsync().ConfigureAwait(false);
        _workers.Dispose();
        foreach (var reader in _readers)
        {
            if (!ReferenceEquals(reader.Device, _session))
            {
                reader.Device.Dispose();
            }
        }

        _session.Dispose();
        _wake.Dispose();
    }

    /// <summary>
    /// The kernel caps readahead at the mount's bdi read_ahead_kb (128 KiB by default), below max_readahead: raise it
    /// to <see cref="FuseServerOptions.MaxReadahead"/>, so sequential readers (EROFS reading a blob) ask for large
    /// READs. Best effort: a failure only keeps the default.
    /// </summary>
    private void RaiseBdiReadahead()
    {
        if (Syscalls.Stat(_mountPoint, out var device) != 0)
        {
            return;
        }

        // glibc's major()/minor() of a dev_t.
        var major = ((device >> 8) & 0xfff) | ((device >> 32) & ~0xfffUL);
        var minor = (device & 0xff) | ((device >> 12) & ~0xffUL);
        var path = $"/sys/class/bdi/{major}:{minor}/read_ahead_kb";
        try
        {
            File.WriteAllText(path, (Negotiation.MaxReadahead / 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.ReadaheadNotRaised(_logger, path, e.Message);
        }
    }

    private async Task StopReadersAsync(string reason)
    {
        _endReason ??= reason;
        Syscalls.Signal(_wake);
        await _completion.Task.ConfigureAwait(false);
    }

    private async Task DrainReadsAsync()
    {
        _inFlight.CancelAll();
        var deadline = DateTime.UtcNow + _options.ShutdownTimeout;
        while (Volatile.Read(ref _outstandingReads) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10).ConfigureAwait(false);
        }

        var left = Volatile.Read(ref _outstandingReads);
        if (left > 0)
        {
            Log.ReadsOutstanding(_logger, _mountPoint, left);
        }
    }
}
