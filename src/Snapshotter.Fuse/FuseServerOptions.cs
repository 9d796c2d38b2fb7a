namespace Snapshotter.Fuse;

/// <summary>How a <see cref="FuseServer"/> mounts and what it negotiates with the kernel.</summary>
public sealed class FuseServerOptions
{
    /// <summary>The source shown in /proc/mounts (fsname). Defaults to "lazysnap".</summary>
    public string FsName { get; init; } = "lazysnap";

    /// <summary>
    /// The filesystem subtype: mounted as type <c>fuse.&lt;subtype&gt;</c> when set, plain <c>fuse</c> when null.
    /// Defaults to "lazysnap" (so tools and <see cref="FuseMounts"/> can tell our mounts apart).
    /// </summary>
    public string? Subtype { get; init; } = "lazysnap";

    /// <summary>Path of the FUSE device. Defaults to /dev/fuse.</summary>
    public string DevicePath { get; init; } = "/dev/fuse";

    /// <summary>
    /// Largest READ in pages (max_pages, FUSE_MAX_PAGES): 256 pages = 1 MiB per request. The kernel caps it at its
    /// fs.fuse.max_pages_limit (256 by default). Defaults to 256.
    /// </summary>
    public int MaxPages { get; init; } = 256;

    /// <summary>
    /// Readahead the kernel may do per file in bytes (max_readahead; the kernel takes the smaller of this and its
    /// own offer). The server also raises the mount's bdi read_ahead_kb (128 KiB by default) to it. Defaults to 1 MiB.
    /// </summary>
    public int MaxReadahead { get; init; } = 1 << 20;

    /// <summary>
    /// Asynchronous requests (readahead READs) the kernel keeps in flight (max_background; its default is 12).
    /// Lazy blobs are fetched with latency, so more parallel READs pay. Defaults to 64.
    /// </summary>
    public int MaxBackground { get; init; } = 64;

    /// <summary>Threads reading the device, each on its own cloned fd (FUSE_DEV_IOC_CLONE). Defaults to 2.</summary>
    public int ReaderThreads { get; init; } = 2;

    /// <summary>
    /// Threads that start READs (<see cref="IFuseFile.ReadAsync(long, Memory{byte}, CancellationToken)"/>; one that completes synchronously, like a pread of
    /// a local file, runs to its reply on them, an asynchronous one continues on the thread pool). Defaults to 4.
    /// </summary>
    public int ReadWorkers { get; init; } = 4;

    /// <summary>
    /// How long the kernel may cache names and attributes (entry_valid, attr_valid). Files are immutable and
    /// removals are notified, so this can be long. Defaults to 1 day.
    /// </summary>
    public TimeSpan AttributeTimeout { get; init; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Answer OPEN with FOPEN_KEEP_CACHE: the page cache of a file survives close and re-open (files never change).
    /// Defaults to true.
    /// </summary>
    public bool KeepCache { get; init; } = true;

    /// <summary>
    /// Negotiate FUSE_PASSTHROUGH (Linux 6.9+, needs CAP_SYS_ADMIN) and open files whose
    /// <see cref="IFuseFile.GetPassthroughHandle"/> gives a handle in passthrough mode: the kernel then reads the
    /// local file directly and no READ reaches the server. Enabling it raises the mount's stacking depth by one
    /// (max_stack_depth 1), which leaves no room for EROFS + overlayfs on top. Defaults to false.
    /// </summary>
    public bool Passthrough { get; init; }

    /// <summary>
    /// Negotiate FUSE_ASYNC_DIO: O_DIRECT reads (EROFS mounted with <c>-o directio</c>) are split into parallel
    /// background requests. Such requests cannot be interrupted, so a signalled O_DIRECT reader waits for the READ
    /// to finish; without it each O_DIRECT read is a synchronous request that a caught signal interrupts (EINTR, which
    /// EROFS reports as EIO). Defaults to false.
    /// </summary>
    public bool AsyncDirectIo { get; init; }

    /// <summary>How long <see cref="FuseServer.Mount"/> waits for the kernel's INIT. Defaults to 10 seconds.</summary>
    public TimeSpan InitTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long <see cref="FuseServer.DisposeAsync"/> waits for in-flight READs after cancelling them. Defaults to 5 seconds.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
