using Microsoft.Extensions.Logging;
using Snapshotter.Interop;

namespace Snapshotter.Fuse.Benchmarks;

/// <summary>The mounts the variants read through: three FUSE servers of the image files and the EROFS mounts on them.</summary>
internal sealed class BenchSetup : IAsyncDisposable
{
    private readonly List<FuseServer> _servers = [];
    private readonly List<LocalFuseFile> _files = [];
    private readonly List<string> _erofsMounts = [];
    private readonly string _work;
    private readonly string _bootstrap;
    private readonly string _blob;
    private readonly ILogger _logger;

    public BenchSetup(string work, string bootstrap, string blob, ILogger logger)
    {
        _work = work;
        _bootstrap = bootstrap;
        _blob = blob;
        _logger = logger;
        FuseMounts.CleanStale(work, logger);
    }

    public IReadOnlyList<BenchVariant> Variants(string inner)
    {
        var plain = Serve("fuse", new FuseServerOptions { KeepCache = false }, passthrough: false);
        var keep = Serve("fuse-keepcache", new FuseServerOptions { KeepCache = true }, passthrough: false);
        var pass = Serve("fuse-passthrough", new FuseServerOptions { Passthrough = true }, passthrough: true);
        var variants = new List<BenchVariant>
        {
            new("local file", _blob),
            new("FUSE, no KEEP_CACHE", Path.Combine(plain.MountPoint, "blob.img")),
            new("FUSE, KEEP_CACHE", Path.Combine(keep.MountPoint, "blob.img")),
            pass.PassthroughEnabled
                ? new("FUSE, passthrough", Path.Combine(pass.MountPoint, "blob.img"))
                : new("FUSE, passthrough", null, "the kernel refused FUSE_PASSTHROUGH"),
            Erofs("EROFS on local files", _bootstrap, _blob, inner),
            Erofs("EROFS on FUSE files (KEEP_CACHE)", Path.Combine(keep.MountPoint, "meta.img"), Path.Combine(keep.MountPoint, "blob.img"), inner),
            Erofs("EROFS on FUSE passthrough files", Path.Combine(pass.MountPoint, "meta.img"), Path.Combine(pass.MountPoint, "blob.img"), inner),
        };
        return variants;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var mount in _erofsMounts)
        {
            MountCalls.Unmount(mount, detach: false);
        }

        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        _files.ForEach(f => f.Dispose());
    }

    private FuseServer Serve(string name, FuseServerOptions options, bool passthrough)
    {
        var mountPoint = Directory.CreateDirectory(Path.Combine(_work, "mnt-" + name)).FullName;
        var server = FuseServer.Mount(mountPoint, options, _logger);
        _servers.Add(server);
        foreach (var (fileName, path) in new[] { ("meta.img", _bootstrap), ("blob.img", _blob) })
        {
            var file = new LocalFuseFile(fileName, path, passthrough);
            _files.Add(file);
            server.Add(file);
        }

        return server;
    }

    private BenchVariant Erofs(string name, string bootstrap, string blob, string inner)
    {
        var target = Directory.CreateDirectory(Path.Combine(_work, "erofs-" + _erofsMounts.Count)).FullName;
        try
        {
            BenchmarkRunner.MountErofs(bootstrap, blob, target);
        }
        catch (IOException e)
        {
            return new BenchVariant(name, null, "mount refused: " + e.Message);
        }

        _erofsMounts.Add(target);
        return new BenchVariant(name, Path.Combine(target, inner));
    }
}
